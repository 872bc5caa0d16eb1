/**
 * The CLI's one table printer and the formats of its cells: timestamps, USD, counts. Every
 * command prints through these, so a time or an amount looks the same in every column.
 */

/** Columns padded to their widest cell, two spaces apart; columns in `right` are right-aligned (numbers). */
export function table(rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows
    .map((r) =>
      r
        .map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/**
 * A point in time, the same in every column and message: ISO 8601 in UTC to the second,
 * `2026-03-03T04:05:06Z`. Accepts an ISO string or epoch ms; null/undefined → `fallback`.
 */
export function when(value: string | number | null | undefined, fallback = ''): string {
  if (value === null || value === undefined || value === '') return fallback
  const t = typeof value === 'number' ? value : Date.parse(value)
  if (Number.isNaN(t)) return String(value)
  return `${new Date(t).toISOString().slice(0, 19)}Z`
}

/** `$1.234567` from micro-USD, trailing zeros trimmed to cents. */
export function usd(micro: number): string {
  return `$${(micro / 1e6).toFixed(6).replace(/0{1,4}$/, '')}`
}

/** 12345 → `12,345`. */
export const int = (n: number): string => n.toLocaleString('en-US')
