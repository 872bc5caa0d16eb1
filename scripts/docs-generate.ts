/**
 * Rewrites the generated regions of docs/*.md (tables of configuration, parameters, errors) from
 * the code they document (the list: scripts/docs/index.ts).
 *
 *   npm run docs:generate              rewrite the pages that differ
 *   npm run docs:generate -- --check   exit 1 naming the pages that differ
 *
 * test/scripts/docs-generate.test.ts runs the check in `npm test`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { REGIONS } from './docs/index.js'
import { regionNames, withRegion } from './docs/regions.js'

export const DOCS_DIR = fileURLToPath(new URL('../docs/', import.meta.url))

/**
 * `text` of docs/`page` with every region registered for it regenerated.
 * @throws when a registered region's markers are missing, or the page holds an unknown region.
 */
export function generatedPage(page: string, text: string): string {
  const known = new Set(REGIONS.map((r) => r.name))
  const unknown = regionNames(text).filter((n) => !known.has(n))
  if (unknown.length > 0) throw new Error(`docs/${page}: unknown generated region(s) ${unknown.join(', ')}`)
  let out = text
  for (const r of REGIONS.filter((x) => x.page === page)) {
    try {
      out = withRegion(out, r.name, r.source, r.render())
    } catch (e) {
      throw new Error(`docs/${page}: ${(e as Error).message}`)
    }
  }
  return out
}

/** Every docs page that differs from what the code generates: name, current text, generated text. */
export function staleDocs(dir = DOCS_DIR): { page: string; text: string; generated: string }[] {
  const pages = new Set([...readdirSync(dir).filter((f) => f.endsWith('.md')), ...REGIONS.map((r) => r.page)])
  return [...pages]
    .map((page) => {
      const text = readFileSync(join(dir, page), 'utf8')
      return { page, text, generated: generatedPage(page, text) }
    })
    .filter((p) => p.generated !== p.text)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const stale = staleDocs()
  if (process.argv.includes('--check')) {
    for (const p of stale) console.error(`docs/${p.page} differs from the code: run npm run docs:generate`)
    if (stale.length > 0) process.exitCode = 1
  } else {
    for (const p of stale) {
      writeFileSync(join(DOCS_DIR, p.page), p.generated)
      console.log(`docs/${p.page}: generated regions rewritten`)
    }
  }
}
