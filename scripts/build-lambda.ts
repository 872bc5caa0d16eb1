/**
 * Bundles app/lambda.ts for the Lambda Node.js runtime as ESM with code splitting:
 * dist/lambda/index.mjs (the entry, handler `index.handler`) and dist/lambda/chunks/*.mjs, each
 * with its .map.
 *
 *   npm run build                      # → dist/lambda/
 *   tsx scripts/build-lambda.ts --outdir /tmp/x --entry app/lambda.ts
 *
 * What the app reaches only through a dynamic `import()` (the MCP SDK and zod, the Cognito
 * identity-provider client, jose) lands in chunks that Node loads on first use; a cold start
 * imports the entry and the chunks it imports statically, merged into one file after the build
 * (chunks/cold.mjs, scripts/merge-cold-chunks.ts). The S3 client is bundled on its own
 * into dist/lambda/s3/ (SEPARATE_BUNDLES), so that none of its code rides in the shared chunks.
 * infra/ deploys the whole directory (infra/bundle.ts → Edge `code`), including the web console
 * built into dist/lambda/console/ (scripts/build-console.ts), which the app reads on first
 * request, never at a cold start.
 */
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild'
import { mkdir, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildConsole } from './build-console.js'
import { mergeColdChunks } from './merge-cold-chunks.js'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * esbuild's ESM output has no `require`; some dependencies still call it for Node built-ins
 * (without this: "Dynamic require of node:stream is not supported").
 */
export const REQUIRE_BANNER =
  "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"

const requireHere = createRequire(import.meta.url)
const packageDir = (name: string) => dirname(requireHere.resolve(`${name}/package.json`))

/** A plugin that answers some bare imports with fixed source. */
function replaceModules(
  name: string,
  modules: Record<string, { contents: string; resolveDir: () => string; importer?: RegExp }>,
): Plugin {
  const names = Object.keys(modules)
  const filter = new RegExp(`^(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`)
  return {
    name,
    setup(b) {
      b.onResolve({ filter }, (args) =>
        modules[args.path]!.importer?.test(args.importer) === false ? undefined : { path: args.path, namespace: name },
      )
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
      "export const nodeProvider = () => async () => { throw new TokenProviderError('no " +
        "SSO token provider in the Lambda bundle', false) }",
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
    contents:
      "export default class ThreadStream { constructor () { throw new Error('pino " +
      "transports are not bundled in the Lambda') } }",
  },
})

/**
 * For the app only (not the bare baselines): fastify loads its default validator and serializer
 * compilers only when the app brings none, and the app gives its own (app/plugins/lazy-validation.ts,
 * Fastify option `schemaController.compilersFactory`), which loads ajv and fast-json-stringify on
 * first use. Left in, they would still be parsed at every cold start.
 */
export const appCompilers = replaceModules('app-compilers', {
  '@fastify/ajv-compiler': {
    importer: /\/node_modules\/fastify\/lib\/schema-controller\.js$/,
    resolveDir: () => ROOT,
    contents:
      'module.exports = function ValidatorSelector () { throw new ' +
      "Error('@fastify/ajv-compiler is not bundled in the Lambda: give Fastify " +
      "schemaController.compilersFactory.buildValidator') }",
  },
  '@fastify/fast-json-stringify-compiler': {
    importer: /\/node_modules\/fastify\/lib\/schema-controller\.js$/,
    resolveDir: () => ROOT,
    contents:
      'module.exports = function SerializerSelector () { throw new ' +
      "Error('@fastify/fast-json-stringify-compiler is not bundled with Fastify in the Lambda: give " +
      "Fastify schemaController.compilersFactory.buildSerializer') }",
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
      const result = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { dedupe: true },
      })
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

/**
 * Modules the app loads with `import()` that are bundled on their own (own entry, own copy of
 * their dependencies) into `<outdir>/<dir>/index.mjs`. In the app's build each becomes a small
 * stub chunk that imports that file by a URL resolved at run time. Why: esbuild tree-shakes one
 * build as a whole, so a lazily loaded SDK client still pulls the parts of the shared packages
 * it uses (for S3: the XML protocol of @aws-sdk/core and @smithy/core) into the shared chunks
 * that every cold start loads. Built on its own, none of its code reaches them.
 */
export const SEPARATE_BUNDLES: Record<string, { dir: string; exports: string[] }> = {
  // store/s3-sdk.ts: the S3 client for s3:// references (clients.ts, store/s3-objects.ts).
  'app/store/s3-sdk.ts': { dir: 's3', exports: ['GetObjectCommand', 'S3Client'] },
}

/** Answers imports of the SEPARATE_BUNDLES modules with stubs that load their own bundle. */
const separateBundleStubs: Plugin = {
  name: 'separate-bundles',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!args.importer.startsWith(join(ROOT, 'app'))) return undefined
      const target = relative(ROOT, resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts')))
      return target in SEPARATE_BUNDLES ? { path: target, namespace: 'separate-bundle' } : undefined
    })
    b.onLoad({ filter: /.*/, namespace: 'separate-bundle' }, (args) => {
      const { dir, exports } = SEPARATE_BUNDLES[args.path]!
      return {
        // The stub is a chunk of its own in chunks/ (it is only reached by `import()`);
        // buildLambda checks that.
        contents: [
          `const m = await import(new URL('../${dir}/index.mjs', import.meta.url).href)`,
          `export const { ${exports.join(', ')} } = m`,
        ].join('\n'),
        loader: 'js',
        resolveDir: ROOT,
      }
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
  /** Build the web console into `<outdir>/console` (default true). */
  console?: boolean
}

/** One JavaScript file of the output (source maps not included). */
export interface OutputFile {
  /** Path relative to the output directory, e.g. `index.mjs`, `chunks/server-AB12CD34.mjs`. */
  file: string
  bytes: number
  /** Files (relative to the output directory) this one imports statically, i.e. at its own load. */
  imports: string[]
  /** Files it may load later with `import()`. */
  dynamicImports: string[]
  /** Its bundled inputs (`node_modules/…`, `app/…`). */
  inputs: string[]
}

export interface BuildLambdaResult {
  /** The entry: `<outdir>/index.mjs`. */
  outfile: string
  outdir: string
  /** Size of index.mjs in bytes. */
  bytes: number
  /** Size of every .mjs file (entry and chunks) in bytes. */
  totalBytes: number
  /** Every .mjs file, the entry first. */
  files: OutputFile[]
  /** What a cold start loads: the entry and, transitively, the chunks it imports statically. */
  coldStart: OutputFile[]
  metafile: Metafile
}

/** The node_modules package (`@scope/name` or `name`) of a bundled input path, if any. */
export function packageOf(input: string): string | undefined {
  return /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1]
}

/** The .mjs files of a build, paths relative to `outdir`. */
function outputFiles(metafile: Metafile, outdir: string): OutputFile[] {
  const rel = (p: string) => relative(outdir, resolve(ROOT, p))
  return Object.entries(metafile.outputs)
    .filter(([path]) => path.endsWith('.mjs'))
    .map(([path, out]) => ({
      file: rel(path),
      bytes: out.bytes,
      imports: out.imports.filter((i) => !i.external && i.kind === 'import-statement').map((i) => rel(i.path)),
      dynamicImports: out.imports.filter((i) => !i.external && i.kind === 'dynamic-import').map((i) => rel(i.path)),
      inputs: Object.keys(out.inputs),
    }))
}

/**
 * The .mjs files of a build, entry first, with their static and dynamic imports, and the
 * ones a cold start loads (entry + static import closure).
 */
export function describeOutputs(
  metafile: Metafile,
  outdir: string,
): Pick<BuildLambdaResult, 'files' | 'coldStart' | 'bytes' | 'totalBytes'> {
  return describeFiles(outputFiles(metafile, outdir))
}

/** The files of a build, entry first, with the ones a cold start loads (entry + static import closure). */
export function describeFiles(
  unsorted: OutputFile[],
): Pick<BuildLambdaResult, 'files' | 'coldStart' | 'bytes' | 'totalBytes'> {
  const files = [...unsorted].sort((a, b) =>
    a.file === 'index.mjs' ? -1 : b.file === 'index.mjs' ? 1 : a.file.localeCompare(b.file),
  )
  const byName = new Map(files.map((f) => [f.file, f]))
  const entry = byName.get('index.mjs')
  if (!entry) throw new Error(`no index.mjs among the outputs: ${files.map((f) => f.file).join(', ')}`)
  const cold = new Set<string>()
  const visit = (f: OutputFile) => {
    if (cold.has(f.file)) return
    cold.add(f.file)
    for (const i of f.imports) visit(byName.get(i)!)
  }
  visit(entry)
  return {
    files,
    coldStart: files.filter((f) => cold.has(f.file)),
    bytes: entry.bytes,
    totalBytes: files.reduce((sum, f) => sum + f.bytes, 0),
  }
}

/**
 * esbuild options shared by the real bundle and the size/cold-start baselines: the entry
 * becomes `<outdir>/index.mjs`, shared and lazily loaded code `<outdir>/chunks/*.mjs`.
 */
export function lambdaBuildOptions(
  entry: string,
  outdir: string,
  opts: { minify: boolean; sourcemap: boolean },
): BuildOptions {
  return {
    entryPoints: [entry],
    outdir,
    entryNames: 'index',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    // Code reached only through import() goes into chunks loaded on first use (ESM only).
    splitting: true,
    // Metafile paths are relative to this directory whoever runs the build.
    absWorkingDir: ROOT,
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
    // On every output file: each ES module has its own scope, and esbuild's `__require` shim
    // (which reads `require`) may sit in any chunk. Unused, it costs one cached built-in import.
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
  const base = lambdaBuildOptions(entry, outdir, {
    minify: options.minify ?? true,
    sourcemap: options.sourcemap ?? true,
  })
  const [result, separate] = await Promise.all([
    build({ ...base, plugins: [appCompilers, separateBundleStubs, ...base.plugins!] }),
    Promise.all(
      Object.keys(SEPARATE_BUNDLES).map((module) =>
        build(
          lambdaBuildOptions(resolve(ROOT, module), join(outdir, SEPARATE_BUNDLES[module]!.dir), {
            minify: options.minify ?? true,
            sourcemap: options.sourcemap ?? true,
          }),
        ),
      ),
    ),
    // Beside index.mjs: app/lambda.ts serves it from `new URL('./console', import.meta.url)`.
    options.console === false ? undefined : buildConsole({ outdir: join(outdir, 'console') }),
  ])
  const metafile = result.metafile!
  const rel = (p: string) => relative(outdir, resolve(ROOT, p))
  const exportsOf = new Map(Object.entries(metafile.outputs).map(([path, out]) => [rel(path), out.exports]))
  const described = describeFiles(
    await mergeColdChunks(outdir, outputFiles(metafile, outdir), exportsOf, {
      minify: options.minify ?? true,
      sourcemap: options.sourcemap ?? true,
      banner: REQUIRE_BANNER,
    }),
  )
  // Each stub (in the app's build) and its own bundle's files, as one more lazily loaded part.
  Object.entries(SEPARATE_BUNDLES).forEach(([module, { dir }], i) => {
    const stub = described.files.find((f) => f.inputs.includes(`separate-bundle:${module}`))
    if (!stub?.file.startsWith('chunks/')) throw new Error(`the stub of ${dir}/index.mjs is not a chunk: ${stub?.file}`)
    const own = outputFiles(separate[i]!.metafile!, outdir)
    stub.dynamicImports.push(`${dir}/index.mjs`)
    described.files.push(...own)
    described.totalBytes += own.reduce((sum, f) => sum + f.bytes, 0)
  })
  return { outfile: join(outdir, 'index.mjs'), outdir, metafile, ...described }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { outfile, bytes, totalBytes, files, coldStart } = await buildLambda({
    entry: arg('--entry'),
    outdir: arg('--outdir'),
  })
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`
  const cold = new Set(coldStart.map((f) => f.file))
  for (const f of files)
    console.log(`  ${f.file.padEnd(36)} ${kib(f.bytes).padStart(10)}${cold.has(f.file) ? '  (cold start)' : ''}`)
  console.log(
    `${outfile}: entry ${kib(bytes)}; cold start ` +
      `${kib(coldStart.reduce((s, f) => s + f.bytes, 0))}; all ${files.length} files ` +
      `${kib(totalBytes)}`,
  )
}
