/**
 * docs/configuration.md's table of environment variables, generated from app/config.ts's
 * SETTINGS (and AWS_SETTINGS), between the two markers below.
 *
 *   npm run docs:config            rewrite the table
 *   npm run docs:config -- --check exit 1 when the page differs from the code
 *
 * test/app/config-docs.test.ts runs the check in `npm test`.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { AWS_SETTINGS, SETTINGS, type Setting } from '../app/config.js'

export const CONFIG_DOC = fileURLToPath(new URL('../docs/configuration.md', import.meta.url))
const START = '<!-- config-table: generated from app/config.ts by `npm run docs:config`; do not edit -->'
const END = '<!-- /config-table -->'

const cell = (s: string) => s.replace(/\|/g, '\\|')
const name = (env: string) => (env.includes('`') ? env : `\`${env}\``)

/** The markdown table, header included. */
export function configTable(): string {
  const rows = [
    ...Object.values(SETTINGS).map((s: Setting) => [name(s.env), s.default ?? s.parse.shown ?? '—', s.doc]),
    ...AWS_SETTINGS.map((s) => [name(s.env), s.default, s.doc]),
  ]
  return [
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n')
}

/** `page` with the table between the markers replaced by the generated one. */
export function withTable(page: string): string {
  const start = page.indexOf(START)
  const end = page.indexOf(END)
  if (start < 0 || end < start) throw new Error(`${CONFIG_DOC}: the markers ${START} … ${END} are missing`)
  return `${page.slice(0, start + START.length)}\n${configTable()}\n${page.slice(end)}`
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const page = readFileSync(CONFIG_DOC, 'utf8')
  const generated = withTable(page)
  if (process.argv.includes('--check')) {
    if (generated !== page) {
      console.error('docs/configuration.md differs from app/config.ts: run npm run docs:config')
      process.exitCode = 1
    }
  } else if (generated !== page) {
    writeFileSync(CONFIG_DOC, generated)
    console.log('docs/configuration.md: table rewritten from app/config.ts')
  }
}
