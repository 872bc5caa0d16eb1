/**
 * Errors on the Responses door. Before the first byte: OpenAI's error body, as on the chat door
 * (doors/openai-chat/errors.ts, rendered by the shared error handler). Mid-stream: the encoder's
 * `error` event and `response.failed` (encode.ts), from the domain error this gives.
 * https://platform.openai.com/docs/api-reference/responses-streaming/error
 */
import { ApiError, internalError } from '../../errors.js'
import type { Logger } from '../../lib/logger.js'

/** Any error thrown mid-stream → a domain error; unexpected ones are logged, never shown. */
export function responsesStreamError(err: unknown, log: Logger): ApiError {
  if (err instanceof ApiError) return err
  log.error({ err }, 'stream failed')
  return internalError()
}
