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
} from '@aws-sdk/client-bedrock-runtime'
import type { ChatCall } from '../../core/call.js'
import type { ChatEvent, ChatResponse } from '../../core/events.js'
import { ApiError } from '../../errors.js'
import type { CallContext, ChatProvider, EmbeddingProvider, EmbeddingRequest, EmbeddingResult } from '../types.js'
import { callFailure as failure } from './errors.js'
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
    this.#embedConcurrency = opts.embedConcurrency ?? 8 // EMBED_CONCURRENCY (embeddings.ts, not loaded at start)
  }

  /** One Converse call. https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html */
  async complete(call: ChatCall, ctx: CallContext): Promise<ChatResponse> {
    const input = toConverseInput(call, { keyId: ctx.keyId })
    let out
    try {
      out = await this.#client.send(new ConverseCommand(input), { abortSignal: ctx.signal })
    } catch (err) {
      ctx.observe?.upstreamRequest((err as { $metadata?: { requestId?: string } })?.$metadata?.requestId)
      throw failure(err, ctx)
    }
    ctx.observe?.upstreamRequest(out.$metadata.requestId)
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
      ctx.observe?.upstreamRequest(response.$metadata.requestId)
      if (!response.stream)
        throw new ApiError(502, 'The model service returned no stream.', 'api_error', 'upstream_bad_response')
      yield* converseStreamToEvents(response.stream, call, ctx.log)
    } catch (err) {
      ctx.observe?.upstreamRequest((err as { $metadata?: { requestId?: string } })?.$metadata?.requestId)
      throw failure(err, ctx)
    }
  }

  /**
   * Input tokens of the call as the model counts them (CountTokens with the Converse input).
   * Models without token counting answer a ValidationException: undefined then, and the caller
   * estimates. https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_CountTokens.html
   */
  async countTokens(call: ChatCall, ctx: CallContext): Promise<number | undefined> {
    const { modelId, messages, system, toolConfig, additionalModelRequestFields } = toConverseInput(call, {
      keyId: ctx.keyId,
    })
    try {
      const out = await this.#client.send(
        new CountTokensCommand({
          modelId: countTokensModelId(modelId!),
          input: {
            converse: {
              messages,
              ...(system ? { system } : {}),
              ...(toolConfig ? { toolConfig } : {}),
              ...(additionalModelRequestFields ? { additionalModelRequestFields } : {}),
            },
          },
        }),
        { abortSignal: ctx.signal },
      )
      return out.inputTokens
    } catch (err) {
      const mapped = failure(err, ctx)
      if (mapped instanceof ApiError && (mapped.status === 400 || mapped.status === 404)) {
        ctx.log.info(
          { model: call.model.id, code: mapped.code },
          'CountTokens not available for this model; estimating',
        )
        return undefined
      }
      throw mapped
    }
  }

  /**
   * Embeddings through InvokeModel (./invoke-embeddings.ts, loaded by the first embeddings call:
   * a Lambda cold start serving chat does not load it).
   * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html
   */
  async embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResult> {
    const { invokeEmbeddings } = await import('./invoke-embeddings.js')
    return invokeEmbeddings(this.#client, this.#embedConcurrency, req, ctx)
  }
}

/**
 * CountTokens takes a foundation model id, not a cross-region inference profile: the profile's
 * geography prefix (`us.`, `eu.`, `apac.`, `global.`…) is dropped.
 */
export function countTokensModelId(upstreamId: string): string {
  return upstreamId.replace(/^(us|eu|apac|au|jp|ca|us-gov|global)\./, '')
}
