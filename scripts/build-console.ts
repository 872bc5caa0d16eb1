/**
 * Builds the web console (console/src → one ES module and one stylesheet, minified, content-hashed
 * names) and writes index.html naming them:
 *
 *   <outdir>/index.html             served with no-cache (app/routes/console.ts)
 *   <outdir>/assets/main-<hash>.js  served with a one-year immutable cache
 *   <outdir>/assets/main-<hash>.css
 *
 *   npm run build:console              # → dist/console/ (npm start runs it first)
 *   tsx scripts/build-console.ts --outdir /tmp/x
 *
 * scripts/build-lambda.ts calls it too, so the Lambda bundle carries the console beside index.mjs.
 */
import { build } from 'esbuild'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

export interface BuildConsoleResult {
  outdir: string
  /** Asset file names (under assets/) with their sizes in bytes. */
  assets: Array<{ file: string; bytes: number }>
}

export async function buildConsole(options: { outdir?: string; minify?: boolean } = {}): Promise<BuildConsoleResult> {
  const outdir = resolve(ROOT, options.outdir ?? 'dist/console')
  await rm(outdir, { recursive: true, force: true })
  await mkdir(join(outdir, 'assets'), { recursive: true })
  const result = await build({
    entryPoints: [join(ROOT, 'console/src/main.ts')],
    outdir: join(outdir, 'assets'),
    entryNames: '[name]-[hash]',
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['chrome111', 'firefox111', 'safari16.4'],
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    charset: 'utf8',
    metafile: true,
    logLevel: 'warning',
  })
  const outputs = Object.entries(result.metafile!.outputs).map(([path, out]) => ({
    file: basename(path),
    bytes: out.bytes,
  }))
  const js = outputs.find((o) => o.file.endsWith('.js'))
  const css = outputs.find((o) => o.file.endsWith('.css'))
  if (!js || !css) throw new Error(`console build: expected one .js and one .css, got ${outputs.map((o) => o.file)}`)
  const template = await readFile(join(ROOT, 'console/index.html'), 'utf8')
  await writeFile(join(outdir, 'index.html'), template.replace('{{js}}', js.file).replace('{{css}}', css.file))
  return { outdir, assets: outputs }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { outdir, assets } = await buildConsole({ outdir: arg('--outdir') })
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`
  console.log(`${relative(process.cwd(), outdir) || '.'}: ${assets.map((a) => `${a.file} ${kib(a.bytes)}`).join(', ')}`)
}
