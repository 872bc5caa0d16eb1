/**
 * Domain errors in OpenAI's shape: `{"error":{"message","type","param","code"}}`.
 * https://platform.openai.com/docs/guides/error-codes
 */
import { ApiError, internalError, type ApiErrorBody } from '../../errors.js'
import type { Logger } from '../../lib/logger.js'

/** The OpenAI error body of a domain error. */
export function openAIErrorBody(err: ApiError): ApiErrorBody {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } }
}

/** The SSE error payload for an error thrown mid-stream (the official clients raise it as an APIError). */
export function openAIStreamError(err: unknown, log: Logger): ApiErrorBody {
  if (err instanceof ApiError) return openAIErrorBody(err)
  log.error({ err }, 'stream failed')
  return openAIErrorBody(internalError())
}
