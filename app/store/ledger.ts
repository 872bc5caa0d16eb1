/**
 * The metering ledger: one item per key and UTC month in the usage table (`key#<id>` /
 * `spend#<YYYY-MM>`, the item the budget check already used), holding the month's spend and
 * the calls that are not yet folded into the per-model counters. Only conditional writes and
 * ADD: no transactions, no TTL (the local store has neither).
 *
 * Attributes of a ledger item:
 * - `costMicroUsd`        settled cost of the month's calls
 * - `committedMicroUsd`   settled cost + budget reservations of open calls (the budget check)
 * - `o:<callId>`          an OPEN call: written before its upstream call (write-ahead), with
 *                         model, day, lease expiry, reservation and estimate
 * - `s:<callId>`          a SETTLED call not yet folded into the day/month buckets
 * - `foldSeq`, `folding`  the fold in progress (see fold()), so any instance can finish it
 *
 * Settling is one UpdateItem that removes `o:<id>`, adds `s:<id>` and the cost, on the
 * condition that `o:<id>` exists: a retried or racing settle of the same call changes nothing.
 * Several calls of one key can be opened and settled in one write (the ledger service merges
 * them). Folding moves settled calls into the `day#…` / `month#…` buckets (store/usage.ts
 * rows) exactly once: the batch is first moved into `folding` under a sequence number, each
 * bucket accepts a batch only once (`seq < n`), and the batch is cleared only after every
 * bucket has it.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { TokenUsage } from '../schemas/chat.js'
import { COUNTER_FIELDS, zeroCounters, type SpendRecord, type UsageCounters } from './usage.js'

/** A call admitted but not settled yet. */
export interface OpenCall {
  callId: string
  modelId: string
  /** UTC day of admission (YYYY-MM-DD): the call is counted in that day and its month. */
  day: string
  /** After this time (ms) the call is reconciled: charged at its estimate. */
  leaseUntil: number
  /** Budget held by the call (0 for keys without a budget). */
  reserveMicroUsd: number
  /** Tokens and cost the call is charged if it is never settled. */
  estimate: { inputTokens: number; outputTokens: number; costMicroUsd: number }
  /** The request that made the call (ties the ledger to logs and to the client's x-request-id). */
  requestId?: string
}

/** How an open call ends: its real usage, an estimate, or cancelled (not billed). */
export interface Settlement {
  callId: string
  modelId: string
  day: string
  reserveMicroUsd: number
  requestId?: string
  /** Undefined: cancelled (the reservation is released, nothing is counted). */
  usage?: { tokens: TokenUsage; costMicroUsd: number; estimated: boolean }
}

/** A settled call waiting to be folded into the buckets. */
export interface SettledCall {
  callId: string
  modelId: string
  day: string
  counters: UsageCounters
  requestId?: string
}

/** A ledger item, parsed. */
export interface LedgerItem {
  /** The key's owner, as the writes recorded it. */
  owner: string
  spend: SpendRecord
  open: OpenCall[]
  settled: SettledCall[]
  foldSeq: number
  folding: FoldBatch | undefined
}

/** Bucket sort key → counters to add, under the fold's sequence number. */
export interface FoldBatch {
  seq: number
  buckets: Record<string, UsageCounters & { period: string; modelId: string }>
}

/** Thrown by a conditional write whose condition failed; a normal outcome, not an error. */
export class LedgerConflict extends Error {
  constructor() {
    super('ledger condition failed')
    this.name = 'LedgerConflict'
  }
}

const pkOf = (keyId: string) => `key#${keyId}`
const skOf = (month: string) => `spend#${month}`
const OPEN = 'o:'
const SETTLED = 's:'
/** Settled calls moved per fold: keeps the update expression well under DynamoDB's 4 KB. */
export const FOLD_BATCH = 100

const encodeOpen = (c: OpenCall) =>
  [
    c.modelId,
    c.day,
    c.leaseUntil,
    c.reserveMicroUsd,
    c.estimate.inputTokens,
    c.estimate.outputTokens,
    c.estimate.costMicroUsd,
    c.requestId ?? '',
  ].join('|')

function decodeOpen(callId: string, v: string): OpenCall {
  const [modelId, day, lease, reserve, inTok, outTok, cost, requestId] = v.split('|')
  return {
    callId,
    modelId,
    day,
    leaseUntil: Number(lease),
    reserveMicroUsd: Number(reserve),
    estimate: { inputTokens: Number(inTok), outputTokens: Number(outTok), costMicroUsd: Number(cost) },
    ...(requestId ? { requestId } : {}),
  }
}

const SETTLED_FIELDS = [
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'costMicroUsd',
  'estimatedRequests',
] as const

function encodeSettled(s: Settlement & { usage: NonNullable<Settlement['usage']> }): string {
  const t = s.usage.tokens
  return [
    s.modelId,
    s.day,
    t.inputTokens,
    t.outputTokens,
    t.cacheReadTokens,
    t.cacheWriteTokens,
    s.usage.costMicroUsd,
    s.usage.estimated ? 1 : 0,
    s.requestId ?? '',
  ].join('|')
}

function decodeSettled(callId: string, v: string): SettledCall {
  const [modelId, day, ...nums] = v.split('|')
  const counters = zeroCounters()
  counters.requests = 1
  SETTLED_FIELDS.forEach((f, i) => {
    counters[f] = Number(nums[i] ?? 0)
  })
  const requestId = nums[SETTLED_FIELDS.length]
  return { callId, modelId, day, counters, ...(requestId ? { requestId } : {}) }
}

/** `key#id` / `spend#month` plus the owner attributes every write sets. */
function base(keyId: string, owner: string, month: string) {
  return {
    Key: { pk: pkOf(keyId), sk: skOf(month) },
    names: { '#keyId': 'keyId', '#owner': 'owner', '#period': 'period' } as Record<string, string>,
    values: { ':keyId': keyId, ':owner': owner, ':month': month } as Record<string, unknown>,
    sets: ['#keyId = :keyId', '#owner = :owner', '#period = :month'],
  }
}

export class LedgerStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * One write for a key's month: opens `open` (write-ahead records) and settles `settle`.
   * With `limit` (one open call, a key with a budget) the write happens only while the
   * committed spend is below the limit and returns `ok: false` otherwise. Settlements require
   * their open record: if any is gone (settled already), nothing is written and
   * LedgerConflict is thrown — the caller retries them one by one.
   */
  async write(
    keyId: string,
    owner: string,
    month: string,
    ops: { open?: readonly OpenCall[]; settle?: readonly Settlement[]; limit?: number; returnSpend?: boolean },
  ): Promise<{ ok: boolean; spend?: SpendRecord }> {
    const b = base(keyId, owner, month)
    const removes: string[] = []
    const conditions: string[] = []
    let committed = 0
    let cost = 0
    let i = 0
    for (const c of ops.open ?? []) {
      const n = `#a${i++}`
      b.names[n] = OPEN + c.callId
      b.values[`:${n.slice(1)}`] = encodeOpen(c)
      b.sets.push(`${n} = :${n.slice(1)}`)
      committed += c.reserveMicroUsd
      // A retried write-ahead after a lost acknowledgement must not reserve twice.
      if (ops.limit !== undefined) conditions.push(`attribute_not_exists(${n})`)
    }
    for (const s of ops.settle ?? []) {
      const o = `#a${i++}`
      b.names[o] = OPEN + s.callId
      removes.push(o)
      conditions.push(`attribute_exists(${o})`)
      committed -= s.reserveMicroUsd
      if (s.usage) {
        const n = `#a${i++}`
        b.names[n] = SETTLED + s.callId
        b.values[`:${n.slice(1)}`] = encodeSettled(s as Settlement & { usage: NonNullable<Settlement['usage']> })
        b.sets.push(`${n} = :${n.slice(1)}`)
        committed += s.usage.costMicroUsd
        cost += s.usage.costMicroUsd
      }
    }
    if (ops.limit !== undefined) {
      conditions.push('(attribute_not_exists(committedMicroUsd) OR committedMicroUsd < :limit)')
      b.values[':limit'] = ops.limit
    }
    b.values[':committed'] = committed
    b.values[':cost'] = cost
    const expression =
      `SET ${b.sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''} ` +
      `ADD committedMicroUsd :committed, costMicroUsd :cost`
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: b.Key,
          UpdateExpression: expression,
          ...(conditions.length ? { ConditionExpression: conditions.join(' AND ') } : {}),
          ExpressionAttributeNames: b.names,
          ExpressionAttributeValues: b.values,
          ReturnValues: ops.returnSpend ? 'UPDATED_NEW' : 'NONE',
        }),
      )
      return { ok: true, ...(ops.returnSpend ? { spend: toSpend(out.Attributes) } : {}) }
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err
      if (ops.limit === undefined) throw new LedgerConflict()
      // Either the budget is used up, or this very write-ahead landed before (lost ack).
      const item = await this.read(keyId, month)
      const landed = ops.open?.length === 1 && item?.open.some((c) => c.callId === ops.open![0].callId)
      return { ok: landed === true, spend: item?.spend ?? { costMicroUsd: 0, committedMicroUsd: 0 } }
    }
  }

  /** The ledger item of a key's month, parsed (strongly consistent), or undefined. */
  async read(keyId: string, month: string): Promise<LedgerItem | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: pkOf(keyId), sk: skOf(month) }, ConsistentRead: true }),
    )
    const item = out.Item
    if (!item) return undefined
    const open: OpenCall[] = []
    const settled: SettledCall[] = []
    for (const [name, v] of Object.entries(item)) {
      if (name.startsWith(OPEN)) open.push(decodeOpen(name.slice(OPEN.length), String(v)))
      else if (name.startsWith(SETTLED)) settled.push(decodeSettled(name.slice(SETTLED.length), String(v)))
    }
    return {
      owner: String(item.owner ?? ''),
      spend: toSpend(item),
      open,
      settled,
      foldSeq: Number(item.foldSeq ?? 0),
      folding: typeof item.folding === 'string' ? (JSON.parse(item.folding) as FoldBatch) : undefined,
    }
  }

  /**
   * Folds the month's settled calls into the day and month buckets, exactly once, and
   * finishes a fold another instance left half done. Returns the number of calls folded.
   * With `atLeast`, a round starts only while that many calls are waiting (a half-done fold is
   * always finished): a background fold of a busy key must not chase every call that settles
   * while it runs, a batch of one call at a time (five store operations each).
   */
  async fold(keyId: string, owner: string, month: string, hooks: FoldHooks = {}, atLeast = 1): Promise<number> {
    let folded = 0
    for (let round = 0; round < 100; round++) {
      const item = await this.read(keyId, month)
      if (!item) return folded
      if (item.folding) {
        await this.finishFold(keyId, owner, month, item.folding, hooks)
        continue
      }
      if (item.settled.length === 0 || item.settled.length < atLeast) return folded
      const batch = item.settled.slice(0, FOLD_BATCH)
      const seq = item.foldSeq + 1
      const folding: FoldBatch = { seq, buckets: {} }
      for (const s of batch) {
        for (const [g, period] of [
          ['day', s.day],
          ['month', month],
        ] as const) {
          const sk = `${g}#${period}#${s.modelId}`
          const into = (folding.buckets[sk] ??= { ...zeroCounters(), period, modelId: s.modelId })
          for (const f of COUNTER_FIELDS) into[f] += s.counters[f]
        }
      }
      const names: Record<string, string> = { '#folding': 'folding', '#seq': 'foldSeq' }
      batch.forEach((s, i) => {
        names[`#s${i}`] = SETTLED + s.callId
      })
      try {
        // Move the batch out of the settled set and into `folding`, only if nobody else folded meanwhile.
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: pkOf(keyId), sk: skOf(month) },
            UpdateExpression: `SET #folding = :folding, #seq = :seq REMOVE ${batch.map((_, i) => `#s${i}`).join(', ')}`,
            ConditionExpression: 'attribute_not_exists(#folding) AND (attribute_not_exists(#seq) OR #seq = :prev)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':folding': JSON.stringify(folding), ':seq': seq, ':prev': item.foldSeq },
          }),
        )
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) continue
        throw err
      }
      await hooks.afterMove?.()
      await this.finishFold(keyId, owner, month, folding, hooks)
      folded += batch.length
    }
    return folded
  }

  private async finishFold(
    keyId: string,
    owner: string,
    month: string,
    batch: FoldBatch,
    hooks: FoldHooks,
  ): Promise<void> {
    for (const [sk, c] of Object.entries(batch.buckets)) {
      const names: Record<string, string> = {
        '#keyId': 'keyId',
        '#owner': 'owner',
        '#modelId': 'modelId',
        '#period': 'period',
        '#seq': 'seq',
      }
      const values: Record<string, unknown> = {
        ':keyId': keyId,
        ':owner': owner,
        ':modelId': c.modelId,
        ':period': c.period,
        ':seq': batch.seq,
      }
      const adds = COUNTER_FIELDS.map((f) => {
        names[`#${f}`] = f
        values[`:${f}`] = c[f]
        return `#${f} :${f}`
      })
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: pkOf(keyId), sk },
            UpdateExpression:
              `ADD ${adds.join(', ')} SET #keyId = :keyId, #owner = :owner, #modelId = :modelId, ` +
              `#period = :period, #seq = :seq`,
            // Each bucket takes a fold once: a retry, or another instance finishing it, is a no-op.
            ConditionExpression: 'attribute_not_exists(#seq) OR #seq < :seq',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        )
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err
      }
      await hooks.afterBucket?.(sk)
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: pkOf(keyId), sk: skOf(month) },
          UpdateExpression: 'REMOVE #folding',
          ConditionExpression: '#seq = :seq AND attribute_exists(#folding)',
          ExpressionAttributeNames: { '#folding': 'folding', '#seq': 'foldSeq' },
          ExpressionAttributeValues: { ':seq': batch.seq },
        }),
      )
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err
    }
  }
}

/** Test seams: called between the steps of a fold (a crash there must not lose or double anything). */
export interface FoldHooks {
  afterMove?(): Promise<void> | void
  afterBucket?(sk: string): Promise<void> | void
}

export function toSpend(item: Record<string, unknown> | undefined): SpendRecord {
  return { costMicroUsd: Number(item?.costMicroUsd ?? 0), committedMicroUsd: Number(item?.committedMicroUsd ?? 0) }
}
