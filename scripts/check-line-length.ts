/**
 * House rule: no line over 120 characters in tracked source, docs and config (`npm run lint`
 * runs this after `biome ci .`). Biome wraps code at 120 but leaves long strings, comments and
 * markdown alone; this catches those.
 *
 * Exempt: markdown table rows (a row is one line), lines holding a URL (links do not wrap),
 * test fixtures, and generated files listed below. Characters are counted as code points, so
 * `→` or `—` count as one.
 *
 * Usage: `tsx scripts/check-line-length.ts [files…]` (default: every tracked file).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

export const MAX_LINE = 120

const CHECKED = /\.(ts|mts|cts|js|mjs|cjs|md|ya?ml|json)$/
/** Generated or copied data whose lines are not ours to wrap. */
const EXEMPT_FILES: RegExp[] = [
  /^test\/fixtures\//,
  /^package-lock\.json$/,
  // Scenario names and reasons written by test/mcp/conformance.test.ts's format; one entry a line.
  /^test\/mcp\/conformance-expected-failures\.json$/,
]
const URL = /\b[a-z][a-z0-9+.-]*:\/\/\S/i

/** One long line: where and how long. */
export interface LongLine {
  file: string
  line: number
  length: number
}

/** Whether `file` is subject to the rule at all. */
export function isChecked(file: string): boolean {
  return CHECKED.test(file) && !EXEMPT_FILES.some((re) => re.test(file))
}

/** Long lines of one file's text, after the per-line exemptions. */
export function longLines(file: string, text: string, max = MAX_LINE): LongLine[] {
  const markdown = file.endsWith('.md')
  const found: LongLine[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '')
    const length = [...line].length
    if (length <= max) return
    if (URL.test(line)) return
    if (markdown && line.trimStart().startsWith('|')) return
    found.push({ file, line: i + 1, length })
  })
  return found
}

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean)
}

function main(argv: string[]): number {
  const files = (argv.length > 0 ? argv : trackedFiles()).filter(isChecked)
  const found = files.flatMap((file) => {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      return [] // listed by git but deleted in the working tree
    }
    return longLines(file, text)
  })
  for (const l of found) console.error(`${l.file}:${l.line}: ${l.length} characters (max ${MAX_LINE})`)
  if (found.length > 0) {
    console.error(`${found.length} line(s) over ${MAX_LINE} characters: break long strings and comments`)
    return 1
  }
  return 0
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2))
