/**
 * The command line: every option of every command, parsed once, and the parsers of the values
 * that need more than a string (durations, dates, USD amounts, counts). Bad values are usage
 * errors (exit 2).
 */
import { parseArgs } from 'node:util'
import { usageError } from './errors.js'

const OPTIONS = {
  name: { type: 'string' },
  owner: { type: 'string' },
  models: { type: 'string' },
  expires: { type: 'string' },
  'budget-usd': { type: 'string' },
  'soft-budget-usd': { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  local: { type: 'boolean' },
  direct: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'api-url': { type: 'string' },
  username: { type: 'string' },
  flow: { type: 'string' },
  grace: { type: 'string' },
  group: { type: 'string' },
  granularity: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  key: { type: 'string' },
  'no-invite': { type: 'boolean' },
  'set-password': { type: 'boolean' },
} as const

/** Parsed options (node:util parseArgs values). */
export type Flags = Record<string, string | boolean | undefined>

export interface CommandLine {
  flags: Flags
  /** `keys list` → ['keys', 'list']; then the command's arguments. */
  positionals: string[]
}

/** argv → flags and positionals; an unknown option or a missing value is a usage error. */
export function parseCommandLine(argv: string[]): CommandLine {
  try {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS })
    return { flags: values, positionals }
  } catch (err) {
    // node:util's messages can run over several lines: the CLI's errors are one line.
    throw usageError((err as Error).message.split('\n').join(' '))
  }
}

/** A string option's value, or undefined. */
export const str = (flags: Flags, name: string): string | undefined =>
  typeof flags[name] === 'string' ? (flags[name] as string) : undefined

/** `a, b,c` → ['a', 'b', 'c']. */
export const list = (value: string | undefined): string[] | undefined =>
  value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)

/** `90s`, `15m`, `1h`, `7d` or a number of seconds → seconds. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value)
  if (!m) throw usageError(`--${flag}: "${value}" is not a duration like 0, 90s, 15m, 1h or 7d`)
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd']
}

/** `30d`, `12h`, an ISO date, or (for updates) `never` → ISO timestamp or null. */
export function parseExpiry(value: string, allowNever: boolean, now = Date.now()): string | null {
  if (allowNever && value === 'never') return null
  const rel = /^(\d+)([dh])$/.exec(value)
  if (rel) return new Date(now + Number(rel[1]) * (rel[2] === 'd' ? 86_400_000 : 3_600_000)).toISOString()
  const t = Date.parse(value)
  if (Number.isNaN(t))
    throw usageError(
      `--expires: "${value}" is neither a date nor a duration like 30d or 12h${allowNever ? ' nor "never"' : ''}`,
    )
  if (t <= now) throw usageError('--expires: the date is in the past')
  return new Date(t).toISOString()
}

/** USD (`12.5`) → integer micro-USD; `none` → null where allowed (updates clear the limit). */
export function parseUsd(flag: string, value: string, allowNone = false): number | null {
  if (allowNone && value === 'none') return null
  if (!/^\d+(\.\d{1,6})?$/.test(value))
    throw usageError(`--${flag}: "${value}" is not an amount in USD like 25 or 12.50${allowNone ? ' (or "none")' : ''}`)
  const [whole, frac = ''] = value.split('.')
  return Number(whole) * 1_000_000 + Number(frac.padEnd(6, '0'))
}

/** A positive whole number (`--rpm`, `--tpm`); `none` → null where allowed. */
export function parseCount(flag: string, value: string, allowNone = false): number | null {
  if (allowNone && value === 'none') return null
  if (!/^[1-9]\d{0,9}$/.test(value))
    throw usageError(`--${flag}: "${value}" is not a positive whole number${allowNone ? ' (or "none")' : ''}`)
  return Number(value)
}

/** The key limits as stored on a key record / sent to the admin API. */
export interface LimitFields {
  monthlyBudgetMicroUsd?: number | null
  softBudgetMicroUsd?: number | null
  rpm?: number | null
  tpm?: number | null
}

/** The limit flags that are present, as key fields (`none` → null when `allowNone`). */
export function limitFields(flags: Flags, allowNone: boolean): LimitFields {
  const out: LimitFields = {}
  const pairs = [
    ['budget-usd', 'monthlyBudgetMicroUsd', parseUsd],
    ['soft-budget-usd', 'softBudgetMicroUsd', parseUsd],
    ['rpm', 'rpm', parseCount],
    ['tpm', 'tpm', parseCount],
  ] as const
  for (const [flag, field, parse] of pairs) {
    const v = str(flags, flag)
    if (v !== undefined) out[field] = parse(flag, v, allowNone)
  }
  return out
}
