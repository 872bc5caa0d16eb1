/**
 * Bundles app/lambda.ts into one ESM file for the Lambda Node.js runtime:
 * dist/lambda/index.mjs (+ index.mjs.map), handler `index.handler`.
 *
 *   npm run build                      # → dist/lambda/
 *   tsx scripts/build-lambda.ts --outdir /tmp/x --entry app/lambda.ts
 *
 * infra/ deploys exactly these two files (infra/index.ts → Edge `code`).
 */
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild'
import { mkdir, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * esbuild's ESM output has no `require`; some dependencies still call it for Node built-ins
 * (without this: "Dynamic require of node:stream is not supported").
 */
export const REQUIRE_BANNER = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"

const requireHere = createRequire(import.meta.url)
const packageDir = (name: string) => dirname(requireHere.resolve(`${name}/package.json`))

/** A plugin that answers some bare imports with fixed source. */
function replaceModules(name: string, modules: Record<string, { contents: string; resolveDir: () => string; importer?: RegExp }>): Plugin {
  const names = Object.keys(modules)
  const filter = new RegExp(`^(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`)
  return {
    name,
    setup(b) {
      b.onResolve({ filter }, (args) => (modules[args.path]!.importer?.test(args.importer) === false ? undefined : { path: args.path, namespace: name }))
      b.onLoad({ filter: /.*/, namespace: name }, (args) => ({
        contents: modules[args.path]!.contents,
        resolveDir: modules[args.path]!.resolveDir(),
        loader: 'js',
      }))
    },
  }
}

/**
 * Credentials inside Lambda always come from the environment: the runtime sets
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the execution role
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
 * so the SDK's default chain always stops at its first link. Bundling only that link drops the
 * SSO, STS, INI, process and IMDS providers and their nested clients. Likewise Bedrock's bearer
 * token comes only from AWS_BEARER_TOKEN_BEDROCK there (no SSO token files).
 */
export const lambdaCredentials = replaceModules('lambda-credentials', {
  '@aws-sdk/credential-provider-node': {
    resolveDir: () => packageDir('@aws-sdk/credential-provider-node'),
    contents: [
      "import { fromEnv } from '@aws-sdk/credential-provider-env'",
      'export const defaultProvider = (init = {}) => fromEnv(init)',
      'export const credentialsWillNeedRefresh = () => false',
      'export const credentialsTreatedAsExpired = () => false',
    ].join('\n'),
  },
  '@aws-sdk/token-providers': {
    resolveDir: () => packageDir('@aws-sdk/token-providers'),
    contents: [
      "export { fromEnvSigningName } from './dist-es/fromEnvSigningName.js'",
      "import { TokenProviderError } from '@smithy/core/config'",
      "export const nodeProvider = () => async () => { throw new TokenProviderError('no SSO token provider in the Lambda bundle', false) }",
    ].join('\n'),
  },
  // fastify checks plugin version ranges with these three functions only.
  semver: {
    importer: /\/node_modules\/fastify\/lib\/plugin-utils\.js$/,
    resolveDir: () => packageDir('semver'),
    contents: [
      "export { default as gt } from './functions/gt.js'",
      "export { default as coerce } from './functions/coerce.js'",
      "export { default as satisfies } from './functions/satisfies.js'",
    ].join('\n'),
  },
  // pino loads worker-thread transports only when a `transport` option is given; the Lambda
  // logs to stdout.
  'thread-stream': {
    resolveDir: () => ROOT,
    contents: "export default class ThreadStream { constructor () { throw new Error('pino transports are not bundled in the Lambda') } }",
  },
})

/**
 * Several copies of one package version (npm nests them under different parents) become one,
 * and dependencies' package.json files — imported for their version — keep only name and version.
 */
export const dedupe: Plugin = {
  name: 'dedupe',
  setup(b) {
    const seen = new Map<string, string>()
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData?.dedupe) return undefined
      const result = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { dedupe: true } })
      if (result.errors.length > 0 || result.external || !result.path.includes('/node_modules/')) return result
      const match = /^(.*\/node_modules\/((?:@[^/]+\/)?[^/]+))\/(.*)$/.exec(result.path)
      if (!match) return result
      const [, dir, pkg, subpath] = match
      let version: string
      try {
        version = (requireHere(`${dir}/package.json`) as { version: string }).version
      } catch {
        return result
      }
      const key = `${pkg}@${version}/${subpath}`
      const first = seen.get(key)
      if (first === undefined) seen.set(key, result.path)
      return { ...result, path: first ?? result.path }
    })
    b.onLoad({ filter: /\/node_modules\/.*\/package\.json$/ }, async (args) => {
      const { name, version } = requireHere(args.path) as { name: string; version: string }
      return { contents: JSON.stringify({ name, version }), loader: 'json' }
    })
  },
}

export interface BuildLambdaOptions {
  /** Entry module (default app/lambda.ts). */
  entry?: string
  /** Output directory (default dist/lambda); emptied first. */
  outdir?: string
  /** Minify (default true). */
  minify?: boolean
  /** Write index.mjs.map (default true; the Lambda runs with --enable-source-maps). */
  sourcemap?: boolean
}

export interface BuildLambdaResult {
  outfile: string
  /** Size of index.mjs in bytes. */
  bytes: number
  metafile: Metafile
}

/** esbuild options shared by the real bundle and the size/cold-start baselines. */
export function lambdaBuildOptions(entry: string, outfile: string, opts: { minify: boolean; sourcemap: boolean }): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    // ES module builds of the SDK and smithy packages tree-shake; their CJS builds do not.
    mainFields: ['module', 'main'],
    minify: opts.minify,
    sourcemap: opts.sourcemap ? 'external' : false,
    sourcesContent: false,
    legalComments: 'none',
    charset: 'utf8',
    banner: { js: REQUIRE_BANNER },
    metafile: true,
    logLevel: 'warning',
    // Local-only stand-ins must never end up in the Lambda.
    external: ['dynalite', 'classic-level'],
    plugins: [lambdaCredentials, dedupe],
  }
}

export async function buildLambda(options: BuildLambdaOptions = {}): Promise<BuildLambdaResult> {
  const entry = resolve(ROOT, options.entry ?? 'app/lambda.ts')
  const outdir = resolve(ROOT, options.outdir ?? 'dist/lambda')
  await rm(outdir, { recursive: true, force: true })
  await mkdir(outdir, { recursive: true })
  const outfile = join(outdir, 'index.mjs')
  const result = await build(lambdaBuildOptions(entry, outfile, {
    minify: options.minify ?? true,
    sourcemap: options.sourcemap ?? true,
  }))
  const bytes = (await stat(outfile)).size
  return { outfile, bytes, metafile: result.metafile! }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { outfile, bytes } = await buildLambda({ entry: arg('--entry'), outdir: arg('--outdir') })
  console.log(`${outfile}: ${(bytes / 1024).toFixed(1)} KiB`)
}
