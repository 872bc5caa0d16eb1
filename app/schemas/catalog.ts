/**
 * The model catalog file format (app/catalog/default.json, or PENNYWORTH_CATALOG=<path>).
 * One entry per served model: public name and aliases → provider + upstream id, capabilities,
 * and list prices in USD per 1M tokens. Infra reads the same file to derive IAM resources.
 */
import type { Static } from 'typebox'
import { Type } from '../lib/typebox.js'

export const ModelCapabilities = Type.Object(
  {
    streaming: Type.Optional(Type.Boolean()),
    tools: Type.Optional(Type.Boolean()),
    vision: Type.Optional(Type.Boolean()),
    /**
     * `anthropic` = Claude extended thinking (budget_tokens); `effort` = reasoning_effort passed
     * through; absent = none.
     */
    reasoning: Type.Optional(Type.Union([Type.Literal('anthropic'), Type.Literal('effort'), Type.Literal('always')])),
    promptCaching: Type.Optional(Type.Boolean()),
    /**
     * The upstream reads images and documents from S3 itself (Bedrock Converse `s3Location`);
     * otherwise the gateway reads referenced objects and sends their bytes.
     */
    s3References: Type.Optional(Type.Boolean()),
    systemPrompt: Type.Optional(Type.Boolean()),
    /** Embedding models: request body family. */
    embeddingFormat: Type.Optional(
      Type.Union([Type.Literal('titan-v2'), Type.Literal('cohere-v3'), Type.Literal('mock')]),
    ),
    dimensions: Type.Optional(Type.Array(Type.Integer())),
    maxBatch: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
)

export const ModelPricing = Type.Object(
  {
    inputPerMTok: Type.Number({ minimum: 0 }),
    outputPerMTok: Type.Number({ minimum: 0 }),
    cacheReadPerMTok: Type.Optional(Type.Number({ minimum: 0 })),
    cacheWritePerMTok: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
)

export const CatalogModel = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$' }),
    aliases: Type.Optional(Type.Array(Type.String())),
    provider: Type.Union([Type.Literal('bedrock'), Type.Literal('mock')]),
    /** Bedrock model id or cross-region inference profile id (e.g. `us.anthropic.…`). */
    upstreamId: Type.String({ minLength: 1 }),
    kind: Type.Union([Type.Literal('chat'), Type.Literal('embedding')]),
    ownedBy: Type.String(),
    contextWindow: Type.Optional(Type.Integer({ minimum: 1 })),
    maxOutputTokens: Type.Optional(Type.Integer({ minimum: 1 })),
    capabilities: ModelCapabilities,
    pricing: ModelPricing,
    /**
     * Optional fallback chain: catalog ids (of the same kind) tried in order when this model's
     * upstream stays throttled or unavailable after retries, e.g. the same model on another
     * inference profile, or another model. Used only for keys that may use them; each is metered
     * and priced as itself. PENNYWORTH_MODEL_FALLBACKS overrides it per model.
     */
    fallbacks: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 4 })),
  },
  { additionalProperties: false },
)

export const Catalog = Type.Object(
  {
    /** When the prices were taken from the provider's public price list (YYYY-MM-DD). */
    pricesAsOf: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
    pricesSource: Type.Optional(Type.String()),
    models: Type.Array(CatalogModel, { minItems: 1 }),
  },
  { additionalProperties: false },
)

export type ModelCapabilities = Static<typeof ModelCapabilities>
export type ModelPricing = Static<typeof ModelPricing>
export type CatalogModel = Static<typeof CatalogModel>
export type Catalog = Static<typeof Catalog>
