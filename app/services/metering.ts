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
import type { UsageStore } from '../store/usage.js'
import type { UsageEvent, UsageSink } from './usage-sink.js'

/** A usage sink whose background writes can be awaited. */
export interface FlushableUsageSink extends UsageSink {
  flush(): Promise<void>
}

export class MeteringSink implements FlushableUsageSink {
  constructor(private readonly options: { store: Pick<UsageStore, 'writes'>; background: BackgroundWriter }) {}

  /** Returns at once; the writes run in the background. */
  record(event: UsageEvent): void {
    const { requestId, keyId, owner, modelId, tokens, costMicroUsd, at, estimated, reservation } = event
    const details = { requestId, keyId, owner, modelId, tokens, costMicroUsd, at, estimated, reservation }
    for (const write of this.options.store.writes({ keyId, owner, modelId, tokens, costMicroUsd, at, estimated, reservation })) {
      this.options.background.run({ label: 'usage.record', details: { ...details, item: write.sk }, run: write.run })
    }
  }

  flush(): Promise<void> {
    return this.options.background.flush()
  }
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
