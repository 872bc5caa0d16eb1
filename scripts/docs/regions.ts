/**
 * Generated regions of the docs: the text between
 *
 *   <!-- generated:NAME from SOURCE (npm run docs:generate) -->
 *   …
 *   <!-- /generated:NAME -->
 *
 * belongs to the code. `withRegion` puts the generated text there; anything written by hand
 * between the markers is a difference the docs test reports.
 */

/** The opening marker of region `name`, with the pointer a reader of the raw markdown needs. */
export const startMarker = (name: string, source: string) =>
  `<!-- generated:${name} from ${source} (npm run docs:generate) -->`
export const endMarker = (name: string) => `<!-- /generated:${name} -->`

/** The names of the regions a page holds, in order. */
export function regionNames(page: string): string[] {
  return [...page.matchAll(/<!-- generated:([a-z0-9-]+)[ >]/g)].map((m) => m[1]!)
}

/**
 * `page` with region `name` holding `body` (and its opening marker naming `source`).
 * @throws when the page lacks either marker of the region.
 */
export function withRegion(page: string, name: string, source: string, body: string): string {
  const open = new RegExp(`<!-- generated:${name}[ >][^\\n]*?-->`).exec(page)
  const end = endMarker(name)
  const close = open ? page.indexOf(end, open.index) : -1
  if (!open || close < 0) throw new Error(`the markers ${startMarker(name, source)} … ${end} are missing`)
  return `${page.slice(0, open.index)}${startMarker(name, source)}\n${body}\n${page.slice(close)}`
}

const cell = (s: string) => s.replace(/\|/g, '\\|')

/** A markdown table: the header row, the separator, one line per row (pipes in cells escaped). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, header.map(() => '---'), ...rows.map((r) => r.map(cell))]
    .map((r) => `| ${r.join(' | ')} |`)
    .join('\n')
}
