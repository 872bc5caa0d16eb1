/**
 * The Anthropic Messages door's codec, loaded on the first Messages request (dynamic import from
 * routes/anthropic/messages.ts): a Lambda serving only OpenAI clients never reads it at start.
 */
export { decodeMessages } from './decode.js'
export { encodeMessage, encodeStreamEvents, messageId } from './encode.js'
export { anthropicStreamError } from './errors.js'
export { anthropicRateLimitHeaders } from './headers.js'
export { resolveClaudeModel } from '../../services/claude-models.js'
