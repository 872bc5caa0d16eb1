/**
 * Anthropic's rate-limit headers alongside the OpenAI-style x-ratelimit-* ones every door sends.
 * https://docs.anthropic.com/en/api/rate-limits#response-headers (reset: RFC 3339 time).
 */
const PAIRS: Array<[string, string]> = [
  ['x-ratelimit-limit-requests', 'anthropic-ratelimit-requests-limit'],
  ['x-ratelimit-remaining-requests', 'anthropic-ratelimit-requests-remaining'],
  ['x-ratelimit-reset-requests', 'anthropic-ratelimit-requests-reset'],
  ['x-ratelimit-limit-tokens', 'anthropic-ratelimit-tokens-limit'],
  ['x-ratelimit-remaining-tokens', 'anthropic-ratelimit-tokens-remaining'],
  ['x-ratelimit-reset-tokens', 'anthropic-ratelimit-tokens-reset'],
]

/** `12s` / `1m30s` / `250ms` → milliseconds. */
function durationMs(v: string): number | undefined {
  let total = 0
  let matched = false
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    matched = true
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h']
  }
  return matched ? total : undefined
}

/** The given headers plus their anthropic-ratelimit-* counterparts. */
export function withAnthropicRateLimits(
  headers: Readonly<Record<string, string>>,
  now = Date.now(),
): Record<string, string> {
  const out: Record<string, string> = { ...headers }
  for (const [from, to] of PAIRS) {
    const v = headers[from]
    if (v === undefined) continue
    if (from.includes('reset')) {
      const ms = durationMs(v)
      if (ms !== undefined) out[to] = new Date(Math.ceil((now + ms) / 1000) * 1000).toISOString().replace('.000Z', 'Z')
    } else out[to] = v
  }
  return out
}
