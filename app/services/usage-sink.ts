/**
 * Where metered calls go. The chat and embeddings services report every call here exactly
 * once, after the upstream answered (streams: when they end, aborted ones included), and
 * never wait on it: recording must not delay or fail the user's request.
 */
import type { TokenUsage } from '../schemas/chat.js'
import type { LedgerCall } from './metering.js'

/** One metered call. */
export interface UsageEvent {
  keyId: string
  owner: string
  /** Catalog model id (not the alias the client used). */
  modelId: string
  tokens: TokenUsage
  costMicroUsd: number
  /** When the call finished (ms since epoch); decides the day/month buckets. */
  at: number
  requestId: string
  /** True when the token counts were estimated (e.g. a stream the client aborted). */
  estimated?: boolean
  /**
   * The budget reservation the call held since admission (services/limits.ts Permit); the
   * persistent sink releases it in the same atomic write that adds the call's cost.
   */
  reservation?: { month: string; microUsd: number }
  /** The call's write-ahead record (services/metering.ts), settled by this event. */
  call?: LedgerCall
}

export interface UsageSink {
  record(event: UsageEvent): void
}
