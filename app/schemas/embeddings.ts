/**
 * Embeddings request and response shapes (one source: JSON Schema for ajv + TS types).
 * Spec: https://platform.openai.com/docs/api-reference/embeddings/create
 *
 * Like the chat schema, permissive where OpenAI clients send more than we act on: unknown fields
 * are ignored. Token-array inputs pass the schema so the service can refuse them with a clear
 * message instead of ajv's "must match a schema in anyOf".
 */
import type { Static } from 'typebox'
import { Type } from '../lib/typebox.js'

/** Cohere Embed v3 `input_type`: a pennyworth extension (other models ignore it). */
export const EmbeddingInputType = Type.Union([
  Type.Literal('search_document'),
  Type.Literal('search_query'),
  Type.Literal('classification'),
  Type.Literal('clustering'),
])

/** OpenAI's limit on inputs per request. */
export const MAX_EMBEDDING_INPUTS = 2048

export const EmbeddingsRequest = Type.Object({
  model: Type.String({ minLength: 1 }),
  /** A string, an array of strings, or (refused: Bedrock takes text only) token arrays. */
  input: Type.Union([
    Type.String(),
    Type.Array(Type.Union([Type.String(), Type.Integer(), Type.Array(Type.Integer())]), {
      maxItems: MAX_EMBEDDING_INPUTS,
    }),
  ]),
  dimensions: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  encoding_format: Type.Optional(Type.Union([Type.Literal('float'), Type.Literal('base64'), Type.Null()])),
  /** Accepted and ignored; the key id is what usage is recorded against. */
  user: Type.Optional(Type.String()),
  input_type: Type.Optional(Type.Union([EmbeddingInputType, Type.Null()])),
})

export type EmbeddingsRequest = Static<typeof EmbeddingsRequest>
export type EmbeddingInputType = Static<typeof EmbeddingInputType>

/** https://platform.openai.com/docs/api-reference/embeddings/object */
export interface EmbeddingObject {
  object: 'embedding'
  index: number
  /** Floats, or base64 of the little-endian float32 vector when `encoding_format: "base64"`. */
  embedding: number[] | string
}

/** https://platform.openai.com/docs/api-reference/embeddings/create (response) */
export interface EmbeddingsResponse {
  object: 'list'
  data: EmbeddingObject[]
  model: string
  usage: { prompt_tokens: number; total_tokens: number }
}
