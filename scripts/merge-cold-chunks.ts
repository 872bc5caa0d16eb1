/**
 * Merges the shared chunks a cold start loads into one file, chunks/cold.mjs, after esbuild's
 * code-splitting build (scripts/build-lambda.ts). esbuild makes one chunk per distinct set of
 * entry points that use a module, so the code the entry shares with the lazily loaded chunks is
 * spread over ~25 small files, and Node resolves, reads and links each one at every cold start
 * (profiled: the linking alone costs more than any one of the app's modules). One file instead:
 *
 * 1. esbuild bundles the cold chunks again, from an entry that re-exports every export of each
 *    chunk as `c<n>_<name>` (their dynamic `import()`s of lazy chunks stay as they are: cold.mjs
 *    sits in the same directory). Source maps chain through the chunks' own maps.
 * 2. In index.mjs and every lazy chunk, each import of a merged chunk is blanked out with spaces
 *    (so no column of the mapped code moves) and its `c<n>_<name>` equivalent from cold.mjs is
 *    appended to the first line, the unmapped createRequire banner. ES module imports are hoisted
 *    and cold.mjs is evaluated before the entry's body runs, so no evaluation order changes.
 *
 * A chunk that is also the target of an `import()` keeps its own file. The build fails when any
 * file still names a merged chunk afterwards.
 */
import { build, type Plugin } from 'esbuild'
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import type { OutputFile } from './build-lambda.js'

/** Where the merged chunks go (relative to the output directory). */
export const COLD_FILE = 'chunks/cold.mjs'

const NAMED_IMPORT = /import\s*\{([^}]*)\}\s*from\s*"([^"]+)";?/g
const BARE_IMPORT = /import\s*"([^"]+)";?/g

/** The files a cold start loads: `index.mjs` and its static import closure. */
function coldClosure(files: OutputFile[]): string[] {
  const byName = new Map(files.map((f) => [f.file, f]))
  const seen: string[] = []
  const visit = (name: string) => {
    if (seen.includes(name)) return
    seen.push(name)
    for (const i of byName.get(name)!.imports) visit(i)
  }
  visit('index.mjs')
  return seen
}

/**
 * Merges the cold chunks of the build in `outdir` (files and their exports as esbuild's metafile
 * describes them) and returns the files as they are afterwards.
 */
export async function mergeColdChunks(
  outdir: string,
  files: OutputFile[],
  exportsOf: Map<string, string[]>,
  opts: { minify: boolean; sourcemap: boolean; banner: string },
): Promise<OutputFile[]> {
  const dynamicTargets = new Set(files.flatMap((f) => f.dynamicImports))
  const merged = coldClosure(files).filter((f) => f !== 'index.mjs' && !dynamicTargets.has(f))
  if (merged.length < 2) return files
  const prefix = new Map(merged.map((f, i) => [f, `c${i}_`]))

  // 1. One module out of the merged chunks.
  const entry = merged
    .map((f) => {
      const names = exportsOf.get(f) ?? []
      const spec = `./${basename(f)}`
      return names.length === 0
        ? `import ${JSON.stringify(spec)}`
        : `export { ${names.map((n) => `${n} as ${prefix.get(f)}${n}`).join(', ')} } from ${JSON.stringify(spec)}`
    })
    .join('\n')
  const chunksDir = join(outdir, 'chunks')
  const mergedPaths = new Set(merged.map((f) => join(outdir, f)))
  const onlyMerged: Plugin = {
    name: 'only-merged-chunks',
    setup(b) {
      // Merged chunks are bundled; anything else (Node built-ins, lazily loaded chunks) stays an
      // import of the same relative path, still valid from chunks/cold.mjs.
      b.onResolve({ filter: /.*/ }, (args) =>
        mergedPaths.has(join(args.resolveDir, args.path)) ? undefined : { path: args.path, external: true },
      )
      // Chain each chunk's own source map.
      b.onLoad({ filter: /\.mjs$/ }, (args) => {
        let contents = readFileSync(args.path, 'utf8')
        if (opts.sourcemap && existsSync(`${args.path}.map`)) {
          const map = readFileSync(`${args.path}.map`).toString('base64')
          contents += `\n//# sourceMappingURL=data:application/json;base64,${map}`
        }
        return { contents, loader: 'js' }
      })
    },
  }
  await build({
    stdin: { contents: entry, resolveDir: chunksDir, sourcefile: 'cold-chunks.js', loader: 'js' },
    outfile: join(outdir, COLD_FILE),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: opts.minify,
    sourcemap: opts.sourcemap ? 'external' : false,
    sourcesContent: false,
    legalComments: 'none',
    charset: 'utf8',
    banner: { js: opts.banner },
    logLevel: 'warning',
    plugins: [onlyMerged],
  })

  // 2. Everyone else imports from cold.mjs.
  const others = files.filter((f) => !prefix.has(f.file))
  for (const f of others) {
    const path = join(outdir, f.file)
    const text = readFileSync(path, 'utf8')
    if (!text.startsWith(`${opts.banner}\n`)) throw new Error(`${f.file} does not start with the banner line`)
    const target = relative(dirname(path), join(outdir, COLD_FILE))
    const spec = target.startsWith('.') ? target : `./${target}`
    const moved: string[] = []
    const blank = (s: string) => s.replace(/[^\n]/g, ' ')
    const chunkOf = (from: string) => relative(outdir, join(dirname(path), from))
    let out = text.replace(NAMED_IMPORT, (statement, names: string, from: string) => {
      const p = prefix.get(chunkOf(from))
      if (p === undefined) return statement
      const renamed = names
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)
        .map((n) => {
          const [name, local] = n.split(/\s+as\s+/)
          return `${p}${name} as ${local ?? name}`
        })
      moved.push(`import{${renamed.join(',')}}from${JSON.stringify(spec)};`)
      return blank(statement)
    })
    out = out.replace(BARE_IMPORT, (statement, from: string) => {
      if (!prefix.has(chunkOf(from))) return statement
      moved.push(`import${JSON.stringify(spec)};`)
      return blank(statement)
    })
    if (moved.length === 0) continue
    const firstLine = out.indexOf('\n')
    out = out.slice(0, firstLine) + [...new Set(moved)].join('') + out.slice(firstLine)
    writeFileSync(path, out)
  }
  for (const f of merged) {
    rmSync(join(outdir, f))
    rmSync(join(outdir, `${f}.map`), { force: true })
  }
  const after = files.filter((f) => !prefix.has(f.file))
  for (const f of after) {
    const text = readFileSync(join(outdir, f.file), 'utf8')
    const left = merged.find((m) => text.includes(basename(m)))
    if (left) throw new Error(`${f.file} still names the merged chunk ${left}`)
  }

  const mapImports = (imports: string[]) => [
    ...new Set(imports.map((i) => (prefix.has(i) ? COLD_FILE : i)).filter((i) => !prefix.has(i))),
  ]
  const mergedFiles = files.filter((f) => prefix.has(f.file))
  const cold: OutputFile = {
    file: COLD_FILE,
    bytes: statSync(join(outdir, COLD_FILE)).size,
    imports: mapImports(mergedFiles.flatMap((f) => f.imports)).filter((i) => i !== COLD_FILE),
    dynamicImports: [...new Set(mergedFiles.flatMap((f) => f.dynamicImports))],
    inputs: [...new Set(mergedFiles.flatMap((f) => f.inputs))],
  }
  return [
    ...after.map((f) => ({
      ...f,
      bytes: statSync(join(outdir, f.file)).size,
      imports: mapImports(f.imports),
    })),
    cold,
  ]
}
