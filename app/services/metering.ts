/**
 * The persistent usage sink: every metered call becomes atomic ADDs on the usage table
 * (store/usage.ts), written in the background so recording never delays or fails a response.
 * Each item's write is retried on its own with backoff and logged with the full call if it
 * finally fails (no secrets: key id, owner, model, tokens, cost, request id).
 *
 * `flush()` resolves when every write started so far is done. Entry points await it after the
 * response has been sent (app.ts onResponse hook; lambda.ts before the invocation returns, so
 * Lambda does not freeze the instance with writes in flight).
 */
import type { BackgroundWriter } from '../lib/background.js'
import { utcDay, type UsageIncrement, type UsageStore } from '../store/usage.js'
import type { UsageEvent, UsageSink } from './usage-sink.js'

/** A usage sink whose background writes can be awaited. */
export interface FlushableUsageSink extends UsageSink {
  flush(): Promise<void>
}

/** Options of {@link MeteringSink}. */
export interface MeteringOptions {
  store: Pick<UsageStore, 'writes'>
  background: BackgroundWriter
  /**
   * Merge calls of the same key, model, UTC day and reservation month arriving within this many
   * milliseconds into one set of writes (0 = every call writes at once). A long-running busy
   * server then spends one write per item per window instead of per call; reservations are
   * released when the merged write lands, so budget checks stay conservative meanwhile.
   */
  coalesceMs?: number
}

interface Pending { increment: UsageIncrement & { requests: number; estimatedRequests: number }; requestIds: string[] }

export class MeteringSink implements FlushableUsageSink {
  private readonly batch = new Map<string, Pending>()
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly options: MeteringOptions) {}

  /** Returns at once; the writes run in the background. */
  record(event: UsageEvent): void {
    const { requestId, keyId, owner, modelId, tokens, costMicroUsd, at, estimated, reservation } = event
    const estimatedRequests = estimated ? 1 : 0
    const increment = { keyId, owner, modelId, tokens: { ...tokens }, costMicroUsd, at, reservation, requests: 1, estimatedRequests }
    if (!this.options.coalesceMs) {
      this.write({ increment, requestIds: [requestId] })
      return
    }
    const key = [keyId, owner, modelId, utcDay(at), reservation?.month ?? ''].join('\u0000')
    const pending = this.batch.get(key)
    if (!pending) this.batch.set(key, { increment, requestIds: [requestId] })
    else merge(pending, increment, requestId)
    this.timer ??= setTimeout(() => this.drain(), this.options.coalesceMs).unref()
  }

  /** Starts the writes of every merged call now. */
  private drain(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const pending = [...this.batch.values()]
    this.batch.clear()
    for (const p of pending) this.write(p)
  }

  private write({ increment, requestIds }: Pending): void {
    const { tokens, costMicroUsd, requests, estimatedRequests, reservation, keyId, owner, modelId, at } = increment
    // Enough to replay a write that finally failed, and nothing secret.
    const details = { requestIds, keyId, owner, modelId, tokens, costMicroUsd, at, requests, estimatedRequests, reservation }
    for (const write of this.options.store.writes(increment)) {
      this.options.background.run({ label: 'usage.record', details: { ...details, item: write.sk }, run: write.run })
    }
  }

  flush(): Promise<void> {
    this.drain()
    return this.options.background.flush()
  }
}

function merge(into: Pending, add: Pending['increment'], requestId: string): void {
  const i = into.increment
  i.requests += add.requests
  i.estimatedRequests += add.estimatedRequests
  i.costMicroUsd += add.costMicroUsd
  i.at = Math.max(i.at, add.at)
  i.tokens.inputTokens += add.tokens.inputTokens
  i.tokens.outputTokens += add.tokens.outputTokens
  i.tokens.cacheReadTokens += add.tokens.cacheReadTokens
  i.tokens.cacheWriteTokens += add.tokens.cacheWriteTokens
  if (add.reservation) i.reservation = { month: add.reservation.month, microUsd: (i.reservation?.microUsd ?? 0) + add.reservation.microUsd }
  into.requestIds.push(requestId)
}

/** Sends every event to each sink (the persistent one plus, e.g., a test's in-memory sink). */
export class TeeUsageSink implements UsageSink {
  private readonly sinks: UsageSink[]
  constructor(...sinks: UsageSink[]) {
    this.sinks = sinks
  }

  record(event: UsageEvent): void {
    for (const sink of this.sinks) sink.record(event)
  }
}
