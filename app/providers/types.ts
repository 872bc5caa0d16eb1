/**
 * The provider contract. A provider translates between the neutral call model (app/core/) and
 * one upstream and yields plain objects; it never touches HTTP replies, SSE or any front door's
 * wire format.
 */
import type { ChatCall } from '../core/call.js'
import type { DeadlineEnd } from '../core/deadline.js'
import type { ChatEvent, ChatResponse, TokenUsage } from '../core/events.js'
import type { CatalogModel } from '../schemas/catalog.js'
import type { RateLimitSnapshot } from '../errors.js'

import type { Logger } from '../lib/logger.js'

export type { Logger }

/** Per-call context handed to providers. */
export interface CallContext {
  /** Aborted when the client disconnects; passed to the upstream SDK so it stops too. */
  signal: AbortSignal
  log: Logger
  requestId: string
  /** The public key id of the caller (never the key). */
  keyId: string
  /**
   * Facts a use case wants the caller's response to carry (the rate-limit window, a budget
   * warning, a fallback model), told before the first byte. HTTP routes render them as headers
   * (plugins/call-headers.ts); other callers (MCP tools) may omit it.
   */
  annotate?(note: CallNote): void
  /**
   * When the call must have ended (epoch ms), e.g. a Lambda invocation's end minus a margin;
   * undefined = no limit. The chat use case aborts the upstream call then (through the signal it
   * gives the provider) and ends a stream cleanly with what was produced (core/deadline.ts).
   */
  deadline?: number
  /** Told when the deadline ended the call (the route marks and logs the request). */
  onDeadline?(end: DeadlineEnd): void
  /** Where the call reports what metrics and the access log need (absent: nobody listens). */
  observe?: CallObserver
}

/** Facts about a call for its caller's response (see `CallContext.annotate`). */
export interface CallNote {
  /** The key's rate-limit window after this call (only the limits the key has). */
  rateLimit?: RateLimitSnapshot
  /** Set once the key's soft budget is reached: what was spent against it. */
  budgetWarning?: string
  /** Another model answered: `from` (the one asked for) failed, `to` answered. */
  fallback?: { from: string; to: string }
}

/**
 * What a call reports about itself for metrics, traces and the access log
 * (app/lib/observe/request.ts). Every method is a cheap field write; nothing is emitted before
 * the response is done.
 */
export interface CallObserver {
  /** The catalog model the call was admitted to (never a client-given name). */
  setModel(id: string): void
  /** One upstream call took `ms` (streams: until its first event). */
  upstream(ms: number, requestId?: string): void
  /** The upstream's own request id, for the access log. */
  upstreamRequest(requestId: string | undefined): void
  /** The first generated token of a stream. */
  firstToken(): void
  /** The call's metered usage. */
  usage(tokens: TokenUsage, costMicroUsd: number, estimated: boolean): void
  /** The call failed with this status and code (mid-stream errors included). */
  error(status: number, code: string | null | undefined): void
  /** Counts one event (`AbortedStreams`, `StreamsEndedByDeadline`…). */
  count(name: 'AbortedStreams' | 'AbortedCalls' | 'StreamsEndedByDeadline', n?: number): void
  /** Keeps the request's record open until the returned function runs (a stream's metering). */
  hold(): () => void
}

/**
 * A chat provider over the neutral model (app/core/): it encodes the call for its upstream and
 * decodes the answer back into neutral blocks and events. Errors are ApiErrors (domain errors);
 * a call aborted through `ctx.signal` ends with an AbortError.
 */
export interface ChatProvider {
  /** One whole answer. */
  complete(call: ChatCall, ctx: CallContext): Promise<ChatResponse>
  /** The answer as events: message_start, blocks, stop, then usage exactly once. */
  stream(call: ChatCall, ctx: CallContext): AsyncIterable<ChatEvent>
  /**
   * The input tokens the upstream counts for this call, where it can count them exactly
   * (undefined when the model has no counting API).
   */
  countTokens?(call: ChatCall, ctx: CallContext): Promise<number | undefined>
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
