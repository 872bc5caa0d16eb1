/**
 * Crash-safe metering: write ahead, settle, reconcile (store/ledger.ts holds the data).
 *
 * - Admission writes the call's open record (call id, model, estimate, lease) to its key's
 *   ledger item BEFORE the answer can reach the client. Keys with a budget wait for it before
 *   the upstream call (it is the budget reservation); other keys write it while the upstream
 *   call runs and the response is held until it is durable (`gate`), so the first byte is never
 *   earlier than the record.
 * - The end of the call settles the record with the real usage: one conditional write, so a
 *   retried or racing settle cannot count the call twice.
 * - A record not settled within the lease (longer than the longest call) is reconciled:
 *   charged at its estimate and flagged estimated — lazily (first admission of a key in a
 *   process, a refused budget, a usage read) and by the scheduled sweep.
 * - Settled calls are folded into the per-model day/month buckets off the request path.
 *
 * Writes go through one lane per key and month with a few writes in flight: when they are all
 * busy, the calls that arrive are merged into the next one, so a busy key costs far fewer than
 * two writes per call and nothing queues without bound. A settle that releases no reservation
 * rides on the key's next write-ahead (SETTLE_LINGER_MS): one write per call at any load. The
 * queue is fixed-size: admission answers 503 with retry-after when it is full (settles of
 * admitted calls are always accepted).
 */
import { randomBytes } from 'node:crypto'
import { ApiError } from '../errors.js'
import type { BackgroundLogger } from '../lib/background.js'
import { LedgerConflict, type LedgerStore, type OpenCall, type Settlement } from '../store/ledger.js'
import { utcDay, utcMonth, type SpendRecord } from '../store/usage.js'
import type { UsageEvent, UsageSink } from './usage-sink.js'

/** Lease of an open call: Lambda's 15-minute maximum plus a margin. */
export const DEFAULT_LEASE_MS = 20 * 60_000

/** A call's handle in the ledger, carried by its Permit. */
export interface LedgerCall {
  readonly id: string
  readonly keyId: string
  readonly owner: string
  readonly month: string
  readonly open: OpenCall
  /** Resolves when the open record is durable; rejects (503) when it could not be written. */
  readonly durable: Promise<void>
}

export interface LedgerOptions {
  store: Pick<LedgerStore, 'write' | 'read' | 'fold'>
  log: BackgroundLogger & { info?(obj: object, msg?: string): void }
  /** Open calls older than this are reconciled at their estimate (default 20 min). */
  leaseMs?: number
  /** Queued writes (open + settle records) beyond which admission answers 503 (default 4096). */
  capacity?: number
  /** Settled calls of a key and month that start a fold into the buckets (default 32). */
  foldAt?: number
  /** Attempts per write (default 4), backoff from baseDelayMs doubling to maxDelayMs, ±50 % jitter. */
  attempts?: number
  baseDelayMs?: number
  maxDelayMs?: number
  /** How long a settle without a reservation waits for the key's next write (default SETTLE_LINGER_MS). */
  settleLingerMs?: number
  now?: () => number
}

interface QueuedOpen {
  call: OpenCall
  resolve(): void
  reject(err: unknown): void
}
interface Lane {
  keyId: string
  owner: string
  month: string
  opens: QueuedOpen[]
  settles: Settlement[]
  /** Settles that hold no reservation: they ride on the lane's next write (see SETTLE_LINGER_MS). */
  lingering: Settlement[]
  /** The lingering settles are due (their timer fired, or a flush): written even without an open. */
  due: boolean
  timer: NodeJS.Timeout | undefined
  inFlight: number
  scheduled: boolean
}

/** Open and settle records merged into one write at most (DynamoDB's 4 KB expression limit). */
const MAX_OPS_PER_WRITE = 40
/**
 * Writes of one lane in flight at once: a new call's record never waits behind the previous
 * call's settle (each write is atomic on its own); beyond this, records merge into the next write.
 */
const LANE_WRITES = 4
/**
 * How long a settle that releases no budget reservation waits for its key's next write-ahead
 * record to ride on. A key with steady traffic then costs ONE write per call instead of two, and
 * a call's write-ahead never queues behind the previous call's settle on the same item (the
 * store serialises writes to one item). The wait only delays the settle, never an answer: the
 * answer already waited for its write-ahead record. A crash in the wait leaves the call open,
 * charged at its estimate at the lease, like any settle lost in a crash. `flush()` (Lambda,
 * shutdown) writes them at once. Settles that release a reservation go out at once.
 */
const SETTLE_LINGER_MS = 20

export const storeUnavailable = () =>
  new ApiError(
    503,
    'Usage metering is unavailable right now; please retry shortly.',
    'api_error',
    'metering_unavailable',
    null,
    { retryAfterSeconds: 1 },
  )
export const overloaded = () =>
  new ApiError(503, 'The gateway is overloaded; please retry shortly.', 'api_error', 'overloaded', null, {
    retryAfterSeconds: 1,
  })

/** A unique, time-ordered call id (never the client's request id, which a client can repeat). */
export const newCallId = (now: number) => `${now.toString(36)}${randomBytes(9).toString('base64url')}`

export class Ledger implements UsageSink {
  private readonly lanes = new Map<string, Lane>()
  private readonly folds = new Map<string, Promise<void>>()
  private readonly checked = new Set<string>()
  private readonly settledSinceFold = new Map<string, number>()
  private readonly idle: Array<() => void> = []
  private queued = 0
  private running = 0
  /** Settles waiting for their call's open record. */
  private waiting = 0
  private storeDown = false
  /** Inside flush(): lingering settles are written at once. */
  private flushing = 0
  /** Lingering settles queued (part of `queued`). */
  private lingering = 0
  private readonly leaseMs: number
  private readonly capacity: number
  private readonly foldAt: number
  private readonly now: () => number
  /** Writes that failed every attempt since start (their calls are reconciled at the lease). */
  failed = 0
  /** Write attempts that failed and were retried, since start (a metric). */
  retries = 0

  constructor(private readonly options: LedgerOptions) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS
    this.capacity = options.capacity ?? 4096
    this.foldAt = options.foldAt ?? 32
    this.now = options.now ?? Date.now
  }

  /** Records waiting for a write (a backlog metric; 0 when idle). */
  get backlog(): number {
    return this.queued
  }

  /**
   * Writes the open record of a call. With `limit` (the key's budget) the write is the budget
   * reservation: awaited, and `ok: false` when the budget is used up. Otherwise, with `defer`,
   * it returns at once and `call.durable` settles later; the caller must hold the answer on it.
   * @throws ApiError 503 when the queue is full or the store cannot be reached.
   */
  async open(req: {
    keyId: string
    owner: string
    modelId: string
    reserveMicroUsd: number
    estimate: OpenCall['estimate']
    limit?: number
    defer: boolean
    wantSpend?: boolean
    requestId?: string
  }): Promise<{ ok: true; call: LedgerCall; spend?: SpendRecord } | { ok: false; spend: SpendRecord }> {
    if (this.queued >= this.capacity) throw overloaded()
    const now = this.now()
    const month = utcMonth(now)
    const open: OpenCall = {
      callId: newCallId(now),
      modelId: req.modelId,
      day: utcDay(now),
      leaseUntil: now + this.leaseMs,
      reserveMicroUsd: req.reserveMicroUsd,
      estimate: req.estimate,
      // Only a safe request id goes into the record (the app accepts [A-Za-z0-9._:-]{1,128}).
      ...(req.requestId !== undefined && /^[\w.:-]{1,128}$/.test(req.requestId) ? { requestId: req.requestId } : {}),
    }
    this.lazyCheck(req.keyId, month)
    const base = { id: open.callId, keyId: req.keyId, owner: req.owner, month, open }
    if (req.limit !== undefined || req.wantSpend) {
      const tryOnce = () =>
        this.options.store.write(req.keyId, req.owner, month, { open: [open], limit: req.limit, returnSpend: true })
      let out = await this.withStore(tryOnce)
      if (!out.ok && (await this.withStore(() => this.reconcileIfStale(req.keyId, month))))
        out = await this.withStore(tryOnce)
      if (!out.ok) return { ok: false, spend: out.spend! }
      return { ok: true, call: { ...base, durable: Promise.resolve() }, spend: out.spend }
    }
    const durable = new Promise<void>((resolve, reject) =>
      this.enqueue(req.keyId, req.owner, month, { open: { call: open, resolve, reject } }),
    )
    // A store that just failed is not trusted with deferred records: wait, and fail fast.
    if (!req.defer || this.storeDown) await durable
    else
      durable.catch(() => {
        /* the holder of the call observes it */
      })
    return { ok: true, call: { ...base, durable } }
  }

  /** Settles a call with its real usage (UsageSink). Returns at once. */
  record(event: UsageEvent): void {
    const call = event.call
    if (!call) {
      // A call without a ledger record (no admission): counted directly, once.
      this.direct(event)
      return
    }
    const usage = { tokens: event.tokens, costMicroUsd: event.costMicroUsd, estimated: event.estimated === true }
    this.settleAfterOpen(call, {
      callId: call.id,
      // The model that answered: a fallback is metered as itself, not as the model admitted.
      modelId: event.modelId,
      day: call.open.day,
      reserveMicroUsd: call.open.reserveMicroUsd,
      requestId: call.open.requestId,
      usage,
    })
  }

  /** The call failed unmetered: its record is removed and its reservation released. */
  cancel(call: LedgerCall): void {
    this.settleAfterOpen(call, {
      callId: call.id,
      modelId: call.open.modelId,
      day: call.open.day,
      reserveMicroUsd: call.open.reserveMicroUsd,
    })
  }

  private settleAfterOpen(call: LedgerCall, s: Settlement): void {
    // Only after the open record is written (same lane, so never merged before it); an open
    // that failed leaves nothing to settle.
    this.waiting++
    call.durable
      .then(
        () => this.enqueue(call.keyId, call.owner, call.month, { settle: s }, s.reserveMicroUsd === 0),
        () => undefined,
      )
      .finally(() => {
        this.waiting--
        this.wake()
      })
  }

  private direct(event: UsageEvent): void {
    const now = event.at
    const s: Settlement = {
      callId: newCallId(now),
      modelId: event.modelId,
      day: utcDay(now),
      reserveMicroUsd: 0,
      usage: { tokens: event.tokens, costMicroUsd: event.costMicroUsd, estimated: event.estimated === true },
    }
    // Open and settle in sequence through the lane: the same exactly-once path as any call.
    const open: OpenCall = {
      callId: s.callId,
      modelId: s.modelId,
      day: s.day,
      leaseUntil: now + this.leaseMs,
      reserveMicroUsd: 0,
      estimate: {
        inputTokens: event.tokens.inputTokens,
        outputTokens: event.tokens.outputTokens,
        costMicroUsd: event.costMicroUsd,
      },
    }
    const durable = new Promise<void>((resolve, reject) =>
      this.enqueue(event.keyId, event.owner, utcMonth(now), { open: { call: open, resolve, reject } }),
    )
    this.settleAfterOpen(
      { id: s.callId, keyId: event.keyId, owner: event.owner, month: utcMonth(now), open, durable },
      s,
    )
  }

  private enqueue(
    keyId: string,
    owner: string,
    month: string,
    op: { open?: QueuedOpen; settle?: Settlement },
    linger = false,
  ): void {
    const id = `${keyId}\u0000${month}`
    let lane = this.lanes.get(id)
    if (!lane) {
      lane = {
        keyId,
        owner,
        month,
        opens: [],
        settles: [],
        lingering: [],
        due: false,
        timer: undefined,
        inFlight: 0,
        scheduled: false,
      }
      this.lanes.set(id, lane)
    }
    if (op.open) lane.opens.push(op.open)
    this.queued++
    if (op.settle && linger && this.flushing === 0) {
      lane.lingering.push(op.settle)
      this.lingering++
      // Rides on the next write of the lane; on its own only after the linger time.
      lane.timer ??= setTimeout(() => this.due(id, lane), this.options.settleLingerMs ?? SETTLE_LINGER_MS)
      return
    }
    if (op.settle) lane.settles.push(op.settle)
    if (!lane.scheduled && lane.inFlight < LANE_WRITES) {
      // Let the calls of this I/O turn join the same write.
      lane.scheduled = true
      this.running++
      setImmediate(() => {
        lane.scheduled = false
        this.running--
        this.kick(id, lane)
      })
    }
  }

  /** Starts writes of the lane's queued records while it has free write slots. */
  private kick(id: string, lane: Lane): void {
    while (
      (lane.opens.length > 0 || lane.settles.length > 0 || (lane.due && lane.lingering.length > 0)) &&
      lane.inFlight < LANE_WRITES
    ) {
      const opens = lane.opens.splice(0, MAX_OPS_PER_WRITE)
      const taken = lane.settles.splice(0, MAX_OPS_PER_WRITE - opens.length)
      // Lingering settles fill the rest of the write.
      const rode = lane.lingering.splice(0, MAX_OPS_PER_WRITE - opens.length - taken.length)
      this.lingering -= rode.length
      taken.push(...rode)
      this.queued -= opens.length + taken.length
      // A call settled twice (a repeated report) is one settle: the store counts it once anyway.
      const seen = new Set<string>()
      const settles = taken.filter((x) => !seen.has(x.callId) && seen.add(x.callId))
      lane.inFlight++
      this.running++
      void this.writeLane(lane, opens, settles).finally(() => {
        if (settles.length > 0) this.noteSettled(lane, settles.length)
        lane.inFlight--
        this.running--
        this.kick(id, lane)
        this.retire(id, lane)
        this.wake()
      })
    }
    if (lane.lingering.length === 0) {
      lane.due = false
      clearTimeout(lane.timer)
      lane.timer = undefined
    }
    this.retire(id, lane)
  }

  /** The lane's lingering settles are written now (their linger time is over, or a flush). */
  private due(id: string, lane: Lane): void {
    clearTimeout(lane.timer)
    lane.timer = undefined
    lane.due = true
    this.kick(id, lane)
  }

  /** Drops an idle lane (nothing queued, in flight or waiting). */
  private retire(id: string, lane: Lane): void {
    if (
      lane.inFlight === 0 &&
      !lane.scheduled &&
      lane.timer === undefined &&
      lane.opens.length === 0 &&
      lane.settles.length === 0 &&
      lane.lingering.length === 0 &&
      this.lanes.get(id) === lane
    )
      this.lanes.delete(id)
  }

  private async writeLane(lane: Lane, opens: QueuedOpen[], settles: Settlement[]): Promise<void> {
    const { keyId, owner, month } = lane
    try {
      await this.retrying('ledger.write', () =>
        this.options.store.write(keyId, owner, month, { open: opens.map((o) => o.call), settle: settles }),
      )
      for (const o of opens) o.resolve()
      return
    } catch (err) {
      if (!(err instanceof LedgerConflict)) {
        this.lost(opens, settles, err, lane)
        return
      }
    }
    // Some call in the batch was settled already (a retry whose first attempt landed, or the
    // sweep): write the opens alone, then each settle on its own; a conflict there is a no-op.
    try {
      if (opens.length > 0)
        await this.retrying('ledger.write', () =>
          this.options.store.write(keyId, owner, month, { open: opens.map((o) => o.call) }),
        )
      for (const o of opens) o.resolve()
    } catch (err) {
      this.lost(opens, [], err, lane)
    }
    for (const s of settles) {
      try {
        await this.retrying('ledger.settle', () => this.options.store.write(keyId, owner, month, { settle: [s] }))
      } catch (err) {
        if (!(err instanceof LedgerConflict)) this.lost([], [s], err, lane)
      }
    }
  }

  private lost(opens: QueuedOpen[], settles: Settlement[], err: unknown, lane: Lane): void {
    this.failed++
    for (const o of opens) o.reject(storeUnavailable())
    if (opens.length > 0 || settles.length > 0) {
      // Open records never written: those calls are refused (503). Settles not written: the
      // calls stay open and are charged at their estimate when their lease ends.
      this.options.log.error(
        {
          task: 'ledger.write',
          err: errorSummary(err),
          keyId: lane.keyId,
          month: lane.month,
          refusedCalls: opens.map((o) => o.call.callId),
          unsettledCalls: settles.map((s) => s.callId),
        },
        'ledger write failed after retries; unsettled calls will be reconciled at their estimate',
      )
    }
  }

  private async retrying<T>(label: string, run: () => Promise<T>): Promise<T> {
    const attempts = Math.max(1, this.options.attempts ?? 4)
    const base = this.options.baseDelayMs ?? 100
    const max = this.options.maxDelayMs ?? 2_000
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await run()
        this.storeDown = false
        return out
      } catch (err) {
        if (err instanceof LedgerConflict) throw err
        this.storeDown = true
        if (attempt >= attempts) throw err
        this.retries++
        this.options.log.warn({ task: label, attempt, err: errorSummary(err) }, 'ledger write failed; retrying')
        const pause = Math.min(max, base * 2 ** (attempt - 1))
        await new Promise((resolve) => setTimeout(resolve, pause * (0.5 + Math.random())))
      }
    }
  }

  /** A store call on the request path: any failure becomes 503 metering_unavailable. */
  private async withStore<T>(run: () => Promise<T>): Promise<T> {
    try {
      const out = await run()
      this.storeDown = false
      return out
    } catch (err) {
      this.storeDown = true
      this.options.log.warn({ task: 'ledger.open', err: errorSummary(err) }, 'ledger unavailable')
      throw storeUnavailable()
    }
  }

  private noteSettled(lane: Lane, n: number): void {
    const id = `${lane.keyId}\u0000${lane.month}`
    const count = (this.settledSinceFold.get(id) ?? 0) + n
    if (count < this.foldAt) {
      this.settledSinceFold.set(id, count)
      return
    }
    this.settledSinceFold.delete(id)
    this.background(id, () =>
      this.options.store.fold(lane.keyId, lane.owner, lane.month, {}, this.foldAt).then(() => undefined),
    )
  }

  /** One background job per key and month at a time (a fold or a reconciliation); awaited by flush(). */
  private background(id: string, job: () => Promise<void>): void {
    if (this.folds.has(id)) return
    const p = job()
      .catch((err) =>
        this.options.log.warn(
          { task: 'ledger.fold', err: errorSummary(err) },
          'ledger fold failed; the next one will finish it',
        ),
      )
      .finally(() => {
        this.folds.delete(id)
        this.wake()
      })
    this.folds.set(id, p)
  }

  /** First admission of a key and month in this process: reconcile in the background if something is stale. */
  private lazyCheck(keyId: string, month: string): void {
    const id = `${keyId}\u0000${month}`
    if (this.checked.has(id)) return
    if (this.checked.size >= 10_000) this.checked.clear()
    this.checked.add(id)
    this.background(id, async () => {
      await this.reconcileIfStale(keyId, month)
    })
  }

  /** Reconciles the key's month if it holds expired open calls or an unfinished fold. True if it did anything. */
  private async reconcileIfStale(keyId: string, month: string): Promise<boolean> {
    const item = await this.options.store.read(keyId, month)
    const now = this.now()
    if (!item || (!item.folding && !item.open.some((c) => c.leaseUntil <= now))) return false
    await this.reconcile(keyId, month, { fold: false })
    return true
  }

  /**
   * Settles the month's open calls whose lease has ended at their estimate (flagged
   * estimated, reservation released), then folds settled calls into the buckets (all of them
   * with `fold: true`, else only an unfinished fold). Safe to run anywhere, any number of
   * times, concurrently with live settles: every step is conditional.
   * Returns how many calls were charged at their estimate.
   */
  async reconcile(keyId: string, month: string, opts: { fold: boolean } = { fold: true }): Promise<number> {
    const { store } = this.options
    const item = await store.read(keyId, month)
    if (!item) return 0
    const owner = item.owner
    const now = this.now()
    let charged = 0
    for (const c of item.open) {
      if (c.leaseUntil > now) continue
      const s: Settlement = {
        callId: c.callId,
        modelId: c.modelId,
        day: c.day,
        reserveMicroUsd: c.reserveMicroUsd,
        requestId: c.requestId,
        usage: {
          tokens: {
            inputTokens: c.estimate.inputTokens,
            outputTokens: c.estimate.outputTokens,
            cacheReadTokens: 0,
            cacheWriteTokens: 0,
          },
          costMicroUsd: c.estimate.costMicroUsd,
          estimated: true,
        },
      }
      try {
        await store.write(keyId, owner, month, { settle: [s] })
        charged++
      } catch (err) {
        if (!(err instanceof LedgerConflict)) throw err
      }
    }
    if (charged > 0)
      this.options.log.info?.({ keyId, month, charged }, 'ledger: calls past their lease charged at their estimate')
    if (opts.fold || item.folding) await store.fold(keyId, owner, month)
    return charged
  }

  /** The scheduled sweep: reconciles and folds this month and last month of every given key. */
  async sweep(keys: ReadonlyArray<{ id: string }>, concurrency = 8): Promise<{ keys: number; charged: number }> {
    const now = this.now()
    const months = [utcMonth(now), utcMonth(Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 0))]
    let charged = 0
    let next = 0
    await Promise.all(
      Array.from({ length: Math.min(concurrency, keys.length) }, async () => {
        while (next < keys.length) {
          const key = keys[next++]
          for (const month of months) charged += await this.reconcile(key.id, month)
        }
      }),
    )
    return { keys: keys.length, charged }
  }

  /** Resolves when every queued write and background fold is done (Lambda, shutdown, tests). */
  async flush(): Promise<void> {
    this.flushing++
    try {
      while (this.running > 0 || this.waiting > 0 || this.folds.size > 0 || this.lingering > 0) {
        // Lingering settles are written now, not after their linger time.
        for (const [id, lane] of this.lanes) if (lane.lingering.length > 0 && !lane.due) this.due(id, lane)
        await new Promise<void>((resolve) => this.idle.push(resolve))
      }
    } finally {
      this.flushing--
    }
  }

  private wake(): void {
    for (const resolve of this.idle.splice(0)) resolve()
  }
}

function errorSummary(err: unknown): object {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), status: e?.$metadata?.httpStatusCode }
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
