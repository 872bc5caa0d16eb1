/**
 * Bundles app/lambda.ts into one ESM file for the Lambda Node.js runtime:
 * dist/lambda/index.mjs (+ index.mjs.map), handler `index.handler`.
 *
 *   npm run build                      # → dist/lambda/
 *   tsx scripts/build-lambda.ts --outdir /tmp/x --entry app/lambda.ts
 *
 * infra/ deploys exactly these two files (infra/index.ts → Edge `code`).
 */
import { build, type BuildOptions, type Metafile } from 'esbuild'
import { mkdir, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * esbuild's ESM output has no `require`; some dependencies still call it for Node built-ins
 * (without this: "Dynamic require of node:stream is not supported").
 */
export const REQUIRE_BANNER = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"

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
    banner: { js: REQUIRE_BANNER },
    metafile: true,
    logLevel: 'warning',
    // Local-only stand-ins must never end up in the Lambda.
    external: ['dynalite', 'classic-level'],
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
