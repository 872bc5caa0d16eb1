/**
 * Anthropic's rate-limit headers, sent beside the OpenAI-style x-ratelimit-* ones every door
 * sends (plugins/call-headers.ts). Reset times are RFC 3339 instants, whole seconds.
 * https://docs.anthropic.com/en/api/rate-limits#response-headers
 */
import type { RateLimitCounter, RateLimitSnapshot } from '../../errors.js'

/** anthropic-ratelimit-* for the limits in the snapshot (others omitted). */
export function anthropicRateLimitHeaders(s: RateLimitSnapshot, now = Date.now()): Record<string, string> {
  const h: Record<string, string> = {}
  const add = (kind: 'requests' | 'tokens', c: RateLimitCounter | undefined) => {
    if (!c) return
    h[`anthropic-ratelimit-${kind}-limit`] = String(c.limit)
    h[`anthropic-ratelimit-${kind}-remaining`] = String(c.remaining)
    const at = Math.ceil((now + c.resetSeconds * 1000) / 1000) * 1000
    h[`anthropic-ratelimit-${kind}-reset`] = new Date(at).toISOString().replace('.000Z', 'Z')
  }
  add('requests', s.requests)
  add('tokens', s.tokens)
  return h
}
