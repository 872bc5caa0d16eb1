/**
 * The provider contract. A provider translates between the OpenAI wire format and one upstream
 * and yields plain objects; it never touches HTTP replies or SSE (only lib/sse.ts writes SSE).
 */
import type { CatalogModel } from '../schemas/catalog.js'
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, TokenUsage } from '../schemas/chat.js'

/** Minimal structured logger (pino-compatible subset). */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

/** Per-call context handed to providers. */
export interface CallContext {
  /** Aborted when the client disconnects; passed to the upstream SDK so it stops too. */
  signal: AbortSignal
  log: Logger
  requestId: string
  /** The public key id of the caller (never the key). */
  keyId: string
  /**
   * Response headers a use case wants sent (x-ratelimit-*), set before the first byte; HTTP
   * routes pass the reply's, other callers (MCP tools) may omit it.
   */
  setHeaders?(headers: Readonly<Record<string, string>>): void
}

/** A validated chat request plus the catalog entry it resolved to. */
export interface ChatRequest {
  body: ChatCompletionRequest
  model: CatalogModel
  /** Id to put in the OpenAI response (`chatcmpl-…`). */
  completionId: string
  /** Unix seconds for `created`. */
  created: number
}

/** A non-streamed answer: the OpenAI completion plus raw token counts for metering. */
export interface ChatResult {
  completion: ChatCompletion
  tokens: TokenUsage
}

/**
 * One item of a chat stream: an OpenAI chunk to forward, or (once, last) the token counts.
 * The usage chunk OpenAI clients see is built from `tokens` by the chat service, only when the
 * client asked for it; metering always gets it.
 */
export type ChatStreamEvent = { chunk: ChatCompletionChunk } | { tokens: TokenUsage }

export interface ChatProvider {
  chat(req: ChatRequest, ctx: CallContext): Promise<ChatResult>
  chatStream(req: ChatRequest, ctx: CallContext): AsyncIterable<ChatStreamEvent>
}

/** A validated embeddings request (inputs already normalised to strings). */
export interface EmbeddingRequest {
  model: CatalogModel
  inputs: string[]
  dimensions?: number
  /** Cohere's input_type; defaults chosen by the provider. */
  inputType?: 'search_document' | 'search_query' | 'classification' | 'clustering'
}

export interface EmbeddingResult {
  /** One vector per input, in input order. */
  vectors: number[][]
  tokens: TokenUsage
}

export interface EmbeddingProvider {
  embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResult>
}
