/**
 * Embeddings through InvokeModel: Titan v2 one input per call, Cohere v3 up to 96 per call,
 * calls run concurrently (bounded), vectors returned in input order. Loaded by the provider's
 * first embeddings call. https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html
 */
import { InvokeModelCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import { ApiError } from '../../errors.js'
import type { CallContext, EmbeddingRequest, EmbeddingResult } from '../types.js'
import {
  INPUT_TOKEN_HEADER,
  embeddingFormat,
  estimateTokens,
  mapBounded,
  parseEmbeddingResponse,
  planEmbeddingCalls,
} from './embeddings.js'
import { callFailure as failure } from './errors.js'

export async function invokeEmbeddings(
  client: BedrockRuntimeClient,
  concurrency: number,
  req: EmbeddingRequest,
  ctx: CallContext,
): Promise<EmbeddingResult> {
  const format = embeddingFormat(req)
  const calls = planEmbeddingCalls(req)
  const vectors = new Array<number[]>(req.inputs.length)
  let estimated = false
  const counts = await mapBounded(calls, concurrency, async (call) => {
    const command = new InvokeModelCommand({
      modelId: req.model.upstreamId,
      contentType: 'application/json',
      accept: 'application/json',
      body: new TextEncoder().encode(JSON.stringify(call.body)),
    })
    // InvokeModelResponse does not surface the token-count header: read it off the raw
    // HTTP response with a middleware on this command only (the shared client is untouched).
    let headerCount: number | undefined
    command.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args)
        headerCount = tokenHeader((result.response as { headers?: Record<string, string> } | undefined)?.headers)
        return result
      },
      { step: 'deserialize', name: 'pennyworthInputTokenCount' },
    )
    let out
    try {
      out = await client.send(command, { abortSignal: ctx.signal })
    } catch (err) {
      throw failure(err, ctx)
    }
    let json: unknown
    try {
      json = JSON.parse(new TextDecoder().decode(out.body))
    } catch {
      throw new ApiError(
        502,
        'Unexpected embedding response from the model: not JSON.',
        'api_error',
        'upstream_bad_response',
      )
    }
    const parsed = parseEmbeddingResponse(format, json, call.indices.length)
    call.indices.forEach((pos, k) => {
      vectors[pos] = parsed.vectors[k]
    })
    const count = parsed.inputTokens ?? headerCount
    if (count !== undefined) return count
    estimated = true
    return estimateTokens(call.indices.map((i) => req.inputs[i]))
  })
  if (estimated)
    ctx.log.warn(
      { model: req.model.id, requestId: ctx.requestId },
      'Bedrock reported no embedding token count; metering an estimate',
    )
  const inputTokens = counts.reduce((a, b) => a + b, 0)
  return { vectors, tokens: { inputTokens, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } }
}

function tokenHeader(headers: Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === INPUT_TOKEN_HEADER) {
      const n = Number(v)
      return Number.isFinite(n) && n >= 0 ? n : undefined
    }
  }
  return undefined
}
