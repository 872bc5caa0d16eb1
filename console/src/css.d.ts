/** Stylesheets imported for their side effect; esbuild bundles them into assets/main-<hash>.css. */
declare module '*.css'
