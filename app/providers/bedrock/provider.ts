/**
 * The Bedrock provider: chat through Converse / ConverseStream, embeddings through InvokeModel.
 * The SDK client is injected (built once by the entry point), so tests can point it anywhere.
 *
 * Specs:
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html
 */
import {
  type BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  CountTokensCommand,
  InvokeModelCommand,
} from '@aws-sdk/client-bedrock-runtime'
import type { ChatCall } from '../../core/call.js'
import type { ChatEvent, ChatResponse } from '../../core/events.js'
import { ApiError } from '../../errors.js'
import type {
  CallContext,
  ChatProvider,
  EmbeddingProvider,
  EmbeddingRequest,
  EmbeddingResult,
} from '../types.js'
import {
  EMBED_CONCURRENCY,
  INPUT_TOKEN_HEADER,
  embeddingFormat,
  estimateTokens,
  mapBounded,
  parseEmbeddingResponse,
  planEmbeddingCalls,
} from './embeddings.js'
import { isAbortError, mapBedrockError } from './errors.js'
import { fromConverseOutput } from './from-converse.js'
import { converseStreamToEvents } from './stream.js'
import { toConverseInput } from './to-converse.js'

export interface BedrockProviderOptions {
  client: BedrockRuntimeClient
  /** InvokeModel calls in flight per embeddings request (default 8). */
  embedConcurrency?: number
}

export class BedrockProvider implements ChatProvider, EmbeddingProvider {
  readonly #client: BedrockRuntimeClient
  readonly #embedConcurrency: number

  constructor(opts: BedrockProviderOptions) {
    this.#client = opts.client
    this.#embedConcurrency = opts.embedConcurrency ?? EMBED_CONCURRENCY
  }

  /** One Converse call. https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html */
  async complete(call: ChatCall, ctx: CallContext): Promise<ChatResponse> {
    const input = toConverseInput(call, { keyId: ctx.keyId })
    let out
    try {
      out = await this.#client.send(new ConverseCommand(input), { abortSignal: ctx.signal })
    } catch (err) {
      throw failure(err, ctx)
    }
    return fromConverseOutput(out, call)
  }

  /**
   * One ConverseStream call, its events translated as they arrive. Errors before the first event
   * and exceptions thrown mid-stream are both mapped to ApiError; an abort stays an AbortError.
   * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
   */
  async *stream(call: ChatCall, ctx: CallContext): AsyncGenerator<ChatEvent> {
    const input = toConverseInput(call, { keyId: ctx.keyId })
    try {
      const response = await this.#client.send(new ConverseStreamCommand(input), { abortSignal: ctx.signal })
      if (!response.stream) throw new ApiError(502, 'The model service returned no stream.', 'api_error', 'upstream_bad_response')
      yield* converseStreamToEvents(response.stream, call, ctx.log)
    } catch (err) {
      throw failure(err, ctx)
    }
  }

  /**
   * Input tokens of the call as the model counts them (CountTokens with the Converse input).
   * Models without token counting answer a ValidationException: undefined then, and the caller
   * estimates. https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_CountTokens.html
   */
  async countTokens(call: ChatCall, ctx: CallContext): Promise<number | undefined> {
    const { modelId, messages, system, toolConfig, additionalModelRequestFields } = toConverseInput(call, { keyId: ctx.keyId })
    try {
      const out = await this.#client.send(new CountTokensCommand({
        modelId: countTokensModelId(modelId!),
        input: { converse: { messages, ...(system ? { system } : {}), ...(toolConfig ? { toolConfig } : {}), ...(additionalModelRequestFields ? { additionalModelRequestFields } : {}) } },
      }), { abortSignal: ctx.signal })
      return out.inputTokens
    } catch (err) {
      const mapped = failure(err, ctx)
      if (mapped instanceof ApiError && (mapped.status === 400 || mapped.status === 404)) {
        ctx.log.info({ model: call.model.id, code: mapped.code }, 'CountTokens not available for this model; estimating')
        return undefined
      }
      throw mapped
    }
  }

  /**
   * Embeddings through InvokeModel: Titan v2 one input per call, Cohere v3 up to 96 per call,
   * calls run concurrently (bounded), vectors returned in input order.
   * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html
   */
  async embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResult> {
    const format = embeddingFormat(req)
    const calls = planEmbeddingCalls(req)
    const vectors = new Array<number[]>(req.inputs.length)
    let estimated = false
    const counts = await mapBounded(calls, this.#embedConcurrency, async (call) => {
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
        out = await this.#client.send(command, { abortSignal: ctx.signal })
      } catch (err) {
        throw failure(err, ctx)
      }
      let json: unknown
      try {
        json = JSON.parse(new TextDecoder().decode(out.body))
      } catch {
        throw new ApiError(502, 'Unexpected embedding response from the model: not JSON.', 'api_error', 'upstream_bad_response')
      }
      const parsed = parseEmbeddingResponse(format, json, call.indices.length)
      call.indices.forEach((pos, k) => { vectors[pos] = parsed.vectors[k] })
      const count = parsed.inputTokens ?? headerCount
      if (count !== undefined) return count
      estimated = true
      return estimateTokens(call.indices.map((i) => req.inputs[i]))
    })
    if (estimated) ctx.log.warn({ model: req.model.id, requestId: ctx.requestId }, 'Bedrock reported no embedding token count; metering an estimate')
    const inputTokens = counts.reduce((a, b) => a + b, 0)
    return { vectors, tokens: { inputTokens, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } }
  }
}

/**
 * CountTokens takes a foundation model id, not a cross-region inference profile: the profile's
 * geography prefix (`us.`, `eu.`, `apac.`, `global.`…) is dropped.
 */
export function countTokensModelId(upstreamId: string): string {
  return upstreamId.replace(/^(us|eu|apac|au|jp|ca|us-gov|global)\./, '')
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

/**
 * Client hang-ups stay AbortErrors (nothing to answer); everything else becomes an ApiError.
 * Once the signal has fired, any failure is the abort's doing: the SDK's event stream, for one,
 * just ends when aborted, which the translator reports as an incomplete stream.
 */
function failure(err: unknown, ctx: CallContext): unknown {
  if (isAbortError(err)) return err
  if (ctx.signal.aborted) {
    const abort = new Error('Request aborted', { cause: err })
    abort.name = 'AbortError'
    return abort
  }
  return mapBedrockError(err)
}
