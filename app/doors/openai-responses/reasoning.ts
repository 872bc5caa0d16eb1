/**
 * Reasoning items carry the model's signed reasoning in `encrypted_content`, so a stateless client
 * (`store: false`, e.g. Codex) that sends them back gives Claude the exact thinking block and
 * signature it demands in later turns. OpenAI's field holds an opaque blob; ours is readable:
 * `pwr1.` + base64url(JSON) — the text is shown in the item's summary anyway, and the signature
 * is the provider's (it cannot be forged into anything the model accepts).
 * https://platform.openai.com/docs/guides/reasoning#encrypted-reasoning-items
 */
import type { ReasoningBlock, RedactedReasoningBlock } from '../../core/call.js'

const PREFIX = 'pwr1.'

/** A reasoning block → `encrypted_content` (null when there is nothing to send back). */
export function encodeReasoningCarrier(block: ReasoningBlock | RedactedReasoningBlock): string | null {
  if (block.type === 'redacted_reasoning')
    return PREFIX + Buffer.from(JSON.stringify({ r: block.data })).toString('base64url')
  if (block.signature === undefined) return null
  return PREFIX + Buffer.from(JSON.stringify({ t: block.text, s: block.signature })).toString('base64url')
}

/** `encrypted_content` → the reasoning block, or null for anything this gateway did not write. */
export function decodeReasoningCarrier(value: unknown): ReasoningBlock | RedactedReasoningBlock | null {
  if (typeof value !== 'string' || !value.startsWith(PREFIX)) return null
  try {
    const x = JSON.parse(Buffer.from(value.slice(PREFIX.length), 'base64url').toString('utf8')) as {
      t?: unknown
      s?: unknown
      r?: unknown
    }
    if (typeof x.r === 'string') return { type: 'redacted_reasoning', data: x.r }
    if (typeof x.t === 'string' && typeof x.s === 'string') return { type: 'reasoning', text: x.t, signature: x.s }
  } catch {
    /* not ours */
  }
  return null
}
