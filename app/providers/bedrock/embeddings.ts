/**
 * OpenAI embeddings ↔ Bedrock InvokeModel bodies for Titan Text Embeddings v2 and Cohere Embed v3.
 * Pure: request planning and response parsing; the provider does the calls.
 *
 * Specs:
 * - https://platform.openai.com/docs/api-reference/embeddings/create
 * - https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html
 * - https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed-v3.html
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html
 */
import { ApiError, badRequest } from '../../errors.js'
import type { EmbeddingRequest } from '../types.js'

export const TITAN_DIMENSIONS = [256, 512, 1024] as const
export const TITAN_DEFAULT_DIMENSIONS = 1024
export const COHERE_MAX_BATCH = 96
export const COHERE_MAX_CHARS = 2048
/** How many InvokeModel calls one embeddings request runs at once. */
export const EMBED_CONCURRENCY = 8
/** Response header with the input token count (InvokeModel). */
export const INPUT_TOKEN_HEADER = 'x-amzn-bedrock-input-token-count'

export type EmbeddingFormat = 'titan-v2' | 'cohere-v3'

/** One InvokeModel call: its JSON body and the positions of its inputs in the request. */
export interface EmbeddingCall {
  body: Record<string, unknown>
  indices: number[]
}

/** The model's embedding body family, or a 400 when it is not a Bedrock embedding model. */
export function embeddingFormat(req: EmbeddingRequest): EmbeddingFormat {
  const f = req.model.capabilities.embeddingFormat
  if (req.model.kind !== 'embedding' || (f !== 'titan-v2' && f !== 'cohere-v3')) {
    throw badRequest(`Model '${req.model.id}' is not an embedding model.`, 'model', 'model_not_embedding')
  }
  return f
}

/**
 * Validates an embeddings request and splits it into InvokeModel calls.
 *
 * - Titan v2 (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html):
 *   one `inputText` per call; `dimensions` ∈ {256, 512, 1024} (default 1024); `normalize: true`
 *   because OpenAI embeddings are unit vectors (cosine = dot product).
 * - Cohere v3 (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed-v3.html):
 *   up to 96 `texts` of ≤ 2048 characters per call; `input_type` is required (default
 *   `search_document`); `truncate: 'NONE'` so an over-long input is an error, as with OpenAI,
 *   instead of being silently cut. Dimensions are fixed at 1024.
 *
 * @throws ApiError 400 for empty inputs, unsupported dimensions, over-long Cohere texts.
 */
export function planEmbeddingCalls(req: EmbeddingRequest): EmbeddingCall[] {
  const format = embeddingFormat(req)
  if (req.inputs.length === 0) throw badRequest('input must not be empty.', 'input')
  req.inputs.forEach((text, i) => {
    if (text === '') throw badRequest(`input[${i}] is an empty string.`, 'input', 'empty_input')
  })
  const allowed = req.model.capabilities.dimensions ?? (format === 'titan-v2' ? [...TITAN_DIMENSIONS] : [1024])
  if (req.dimensions != null && !allowed.includes(req.dimensions)) {
    throw badRequest(
      `Model '${req.model.id}' supports dimensions ${allowed.join(', ')}; got ${req.dimensions}.`,
      'dimensions',
      'unsupported_dimensions',
    )
  }

  if (format === 'titan-v2') {
    const dimensions = req.dimensions ?? TITAN_DEFAULT_DIMENSIONS
    return req.inputs.map((inputText, i) => ({ body: { inputText, dimensions, normalize: true }, indices: [i] }))
  }

  req.inputs.forEach((text, i) => {
    if (text.length > COHERE_MAX_CHARS) {
      throw badRequest(
        `input[${i}] has ${text.length} characters; model '${req.model.id}' accepts at most ${COHERE_MAX_CHARS}.`,
        'input',
        'input_too_long',
      )
    }
  })
  const batch = Math.min(req.model.capabilities.maxBatch ?? COHERE_MAX_BATCH, COHERE_MAX_BATCH)
  const calls: EmbeddingCall[] = []
  for (let start = 0; start < req.inputs.length; start += batch) {
    const texts = req.inputs.slice(start, start + batch)
    calls.push({
      body: { texts, input_type: req.inputType ?? 'search_document', truncate: 'NONE' },
      indices: texts.map((_, k) => start + k),
    })
  }
  return calls
}

const bad = (what: string) =>
  new ApiError(502, `Unexpected embedding response from the model: ${what}.`, 'api_error', 'upstream_bad_response')

const isVector = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number')

/**
 * Reads the vectors (and Titan's token count) from an InvokeModel response body.
 * Titan: `{embedding, inputTextTokenCount}`. Cohere: `{embeddings: number[][] | {float: number[][]}, …}`.
 *
 * @throws ApiError 502 when the body does not have the documented shape.
 */
export function parseEmbeddingResponse(
  format: EmbeddingFormat,
  json: unknown,
  expected: number,
): { vectors: number[][]; inputTokens?: number } {
  const body = (json ?? {}) as Record<string, unknown>
  if (format === 'titan-v2') {
    if (!isVector(body.embedding)) throw bad('no embedding')
    const count = body.inputTextTokenCount
    return { vectors: [body.embedding], inputTokens: typeof count === 'number' ? count : undefined }
  }
  const raw = body.embeddings
  const list = Array.isArray(raw) ? raw : (raw as { float?: unknown } | undefined)?.float
  if (!Array.isArray(list) || !list.every(isVector)) throw bad('no embeddings')
  if (list.length !== expected) throw bad(`${list.length} embeddings for ${expected} texts`)
  return { vectors: list }
}

/**
 * Fallback when Bedrock reports no token count (Cohere's body has none; the count normally comes
 * from the `X-Amzn-Bedrock-Input-Token-Count` response header): ~4 characters per token, the
 * ratio Cohere's own Bedrock page gives. An estimate, used only when nothing better exists.
 */
export const estimateTokens = (texts: string[]) => texts.reduce((n, t) => n + Math.ceil(t.length / 4), 0)

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapBounded<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  let failed = false
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++
      try {
        results[i] = await fn(items[i], i)
      } catch (err) {
        failed = true // no new calls once one has failed
        throw err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker))
  return results
}
