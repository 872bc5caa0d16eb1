/**
 * docs/configuration.md's table of environment variables, generated from app/config.ts's
 * SETTINGS (and AWS_SETTINGS) into the page's `generated:config` region.
 *
 *   npm run docs:generate            rewrite every generated region of the docs (this one too)
 *   npm run docs:generate -- --check exit 1 when a page differs from the code
 *
 * test/app/config-docs.test.ts and test/scripts/docs-generate.test.ts run the check in `npm test`.
 */
import { fileURLToPath } from 'node:url'
import { AWS_SETTINGS, SETTINGS, type Setting } from '../app/config.js'
import { markdownTable, withRegion } from './docs/regions.js'

export const CONFIG_DOC = fileURLToPath(new URL('../docs/configuration.md', import.meta.url))
/** The region's name and where its content comes from. */
export const CONFIG_REGION = { name: 'config', source: 'app/config.ts' } as const

const name = (env: string) => (env.includes('`') ? env : `\`${env}\``)

/** The markdown table, header included. */
export function configTable(): string {
  const rows = [
    ...Object.values(SETTINGS).map((s: Setting) => [name(s.env), s.default ?? s.parse.shown ?? '—', s.doc]),
    ...AWS_SETTINGS.map((s) => [name(s.env), s.default, s.doc]),
  ]
  return markdownTable(['variable', 'default', 'meaning'], rows)
}

/** `page` with the table between the markers replaced by the generated one. */
export const withTable = (page: string): string =>
  withRegion(page, CONFIG_REGION.name, CONFIG_REGION.source, configTable())
