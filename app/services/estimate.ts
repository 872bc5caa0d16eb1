/**
 * What a chat call may consume, estimated from the neutral call before it runs: the budget
 * reservation and the TPM charge at admission (services/limits.ts) use it, and so do metering of
 * interrupted streams and count_tokens where the upstream cannot count.
 *
 * Text is counted at ~4 characters a token; each image (and each page-sized slice of a
 * document) at Claude's maximum for one image. Deliberately on the high side: a reservation
 * that is too large is released when the call is settled, one that is too small lets a key
 * overshoot its budget.
 */
import type { Block, ChatCall } from '../core/call.js'
import { DEFAULT_MAX_OUTPUT_TOKENS, IMAGE_TOKENS, type CallEstimate } from './limits.js'

const charsToTokens = (chars: number) => Math.ceil(chars / 4)
/** Document bytes per "page" charged like one image (a PDF page is ~1.5–3k tokens as text plus image). */
const DOCUMENT_BYTES_PER_PAGE = 50_000
/** Role and framing per message, and per tool call. */
const MESSAGE_OVERHEAD_CHARS = 16

function blockSize(b: Block): { chars: number; images: number } {
  switch (b.type) {
    case 'text':
      return { chars: b.text.length, images: 0 }
    case 'reasoning':
      return { chars: b.text.length, images: 0 }
    case 'redacted_reasoning':
      return { chars: b.data.length, images: 0 }
    case 'image':
      return { chars: 0, images: 1 }
    case 'document':
      return b.text !== undefined
        ? { chars: b.text.length, images: 0 }
        : { chars: 0, images: Math.max(1, Math.ceil(b.data.byteLength / DOCUMENT_BYTES_PER_PAGE)) }
    case 'tool_use':
      return { chars: b.name.length + JSON.stringify(b.input).length, images: 0 }
    case 'tool_result': {
      let chars = 0
      let images = 0
      for (const c of b.content) {
        const s = blockSize(c)
        chars += s.chars
        images += s.images
      }
      return { chars, images }
    }
  }
}

/** Input tokens of a call, estimated (system, messages, tool specs, output schema, images). */
export function estimateInputTokens(call: ChatCall): number {
  let chars = 0
  let images = 0
  if (call.system.length > 0) chars += MESSAGE_OVERHEAD_CHARS
  for (const b of call.system) chars += b.text.length
  for (const m of call.messages) {
    chars += MESSAGE_OVERHEAD_CHARS
    for (const b of m.content) {
      const s = blockSize(b)
      chars += s.chars
      images += s.images
    }
  }
  if (call.tools && call.tools.length > 0) chars += JSON.stringify(call.tools).length
  if (call.output) chars += JSON.stringify(call.output).length
  return charsToTokens(chars) + images * IMAGE_TOKENS
}

/**
 * Estimate of a chat call: input as above; the most output it may produce is its maxTokens
 * (reasoning included) or, without one, the model's output cap.
 */
export function estimateChat(call: ChatCall): CallEstimate {
  const requested = call.maxTokens ?? 0
  const cap = call.model.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS
  return {
    inputTokens: estimateInputTokens(call),
    maxOutputTokens: requested > 0 ? requested : cap,
    requestedOutputTokens: requested,
  }
}
