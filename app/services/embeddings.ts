/**
 * The embeddings use case behind /v1/embeddings: resolve the model, check the key may use it,
 * normalise and check the input, call the provider, meter the call, shape the OpenAI answer.
 * Knows nothing of HTTP. https://platform.openai.com/docs/api-reference/embeddings/create
 */
import { badRequest } from '../errors.js'
import type { CallContext, EmbeddingProvider } from '../providers/types.js'
import type { CatalogModel } from '../schemas/catalog.js'
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js'
import type { ModelRegistry } from './catalog.js'
import type { KeyPrincipal } from './keys.js'
import { estimateEmbedding, type LimitsService } from './limits.js'
import { admitCall, meterCall, providerFor, resolveServedModel } from './model-calls.js'
import { UpstreamRetry } from './upstream-retry.js'
import type { UsageSink } from './usage-sink.js'

const tokenInputsRefused = () =>
  badRequest(
    'Token-array inputs are not supported: the embedding models behind this gateway take ' +
      'text. Send a string or an array of strings.',
    'input',
    'token_input_not_supported',
  )

/**
 * The request's `input` as a list of non-empty strings, in order.
 * @throws ApiError 400 for empty strings, an empty array, and token arrays (number[] / number[][]).
 */
export function embeddingInputs(input: EmbeddingsRequest['input']): string[] {
  if (typeof input === 'string') {
    if (input === '') throw badRequest('input must not be an empty string.', 'input', 'empty_input')
    return [input]
  }
  if (input.length === 0) throw badRequest('input must not be an empty array.', 'input', 'empty_input')
  return input.map((item, i) => {
    if (typeof item !== 'string') throw tokenInputsRefused()
    if (item === '') throw badRequest(`input[${i}] is an empty string.`, 'input', 'empty_input')
    return item
  })
}

/**
 * OpenAI's `encoding_format: "base64"`: the vector as little-endian float32, base64-encoded
 * (what the official clients decode with `new Float32Array(buffer)`).
 */
export function float32Base64(vector: readonly number[]): string {
  const buf = Buffer.allocUnsafe(vector.length * 4)
  vector.forEach((x, i) => {
    buf.writeFloatLE(x, i * 4)
  })
  return buf.toString('base64')
}

export interface EmbeddingServiceOptions {
  registry: ModelRegistry
  /** Provider per catalog `provider` value. */
  providers: Partial<Record<CatalogModel['provider'], EmbeddingProvider>>
  usage: UsageSink
  /** Budgets and rate limits, checked before every upstream call. */
  limits: LimitsService
  /** Retries of throttled or unavailable upstream calls (no fallbacks: vectors of two models do not mix). */
  retry?: UpstreamRetry
  now?: () => number
}

export class EmbeddingService {
  private readonly now: () => number
  private readonly retry: UpstreamRetry
  constructor(private readonly options: EmbeddingServiceOptions) {
    this.now = options.now ?? Date.now
    this.retry = options.retry ?? new UpstreamRetry()
  }

  /** Embeds every input (vectors in input order), metered once. */
  async embed(body: EmbeddingsRequest, principal: KeyPrincipal, ctx: CallContext): Promise<EmbeddingsResponse> {
    const model = resolveServedModel(this.options.registry, body.model, principal, 'embedding')
    const provider = providerFor(this.options.providers, model, body.model)
    const inputs = embeddingInputs(body.input)
    const dimensions = body.dimensions ?? undefined
    const allowed = model.capabilities.dimensions
    if (dimensions !== undefined && allowed && !allowed.includes(dimensions)) {
      throw badRequest(
        `Model '${model.id}' supports dimensions ${allowed.join(', ')}; got ${dimensions}.`,
        'dimensions',
        'unsupported_dimensions',
      )
    }

    const permit = await admitCall(this.options.limits, principal, model, estimateEmbedding(inputs), ctx)
    let result: Awaited<ReturnType<EmbeddingProvider['embed']>>
    const req = {
      model,
      inputs,
      ...(dimensions !== undefined ? { dimensions } : {}),
      ...(body.input_type ? { inputType: body.input_type } : {}),
    }
    const started = performance.now()
    try {
      result = await this.retry.run(() => provider.embed(req, ctx), ctx, this.retry.deadline(), model.id)
    } catch (err) {
      ctx.observe?.upstream(performance.now() - started)
      permit.cancel()
      throw this.retry.final(err)
    }
    ctx.observe?.upstream(performance.now() - started)
    const { vectors, tokens } = result
    meterCall(this.options.usage, { model, tokens, principal, ctx, at: this.now(), permit })

    const base64 = body.encoding_format === 'base64'
    return {
      object: 'list',
      data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: base64 ? float32Base64(v) : v })),
      model: model.id,
      usage: { prompt_tokens: tokens.inputTokens, total_tokens: tokens.inputTokens },
    }
  }
}
