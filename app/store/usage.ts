/**
 * Usage counters in DynamoDB (table `usage`, pk/sk). Every write is one UpdateItem with ADD —
 * atomic and exact under any concurrency, no read-modify-write, no transactions.
 *
 * Items of one key, all under pk `key#<keyId>`:
 * - `day#<YYYY-MM-DD>#<modelId>`   per UTC day and model
 * - `month#<YYYY-MM>#<modelId>`    per UTC month and model
 * - `spend#<YYYY-MM>`              the month's spend in one item: `costMicroUsd` (recorded) and
 *   `committedMicroUsd` (recorded + budget reservations of calls in flight), for the budget check
 *
 * Counters: requests, inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens,
 * costMicroUsd (integer micro-USD), estimatedRequests (calls whose tokens were estimated).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { TokenUsage } from '../schemas/chat.js'

/** `day` buckets are UTC dates (YYYY-MM-DD), `month` buckets UTC months (YYYY-MM). */
export type Granularity = 'day' | 'month'

/** The UTC day (YYYY-MM-DD) of a time in ms. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10)
/** The UTC month (YYYY-MM) of a time in ms. */
export const utcMonth = (ms: number): string => new Date(ms).toISOString().slice(0, 7)

/** The counters every usage item carries. */
export interface UsageCounters {
  requests: number
  inputTokens: number
  outputTokens: number
  cacheReadTokens: number
  cacheWriteTokens: number
  costMicroUsd: number
  /** Requests whose tokens were estimated (e.g. streams the client aborted). */
  estimatedRequests: number
}

export const COUNTER_FIELDS = [
  'requests',
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'costMicroUsd',
  'estimatedRequests',
] as const satisfies ReadonlyArray<keyof UsageCounters>

/** Who and what a counter item counts: set on every increment (the same values each time). */
const SET_IDENTITY = 'SET #keyId = :keyId, #owner = :owner, #modelId = :modelId, #period = :period'

export const zeroCounters = (): UsageCounters => ({
  requests: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costMicroUsd: 0,
  estimatedRequests: 0,
})

/** One stored per-model bucket. */
export interface UsageRow extends UsageCounters {
  keyId: string
  modelId: string
  /** YYYY-MM-DD or YYYY-MM. */
  period: string
}

/** A month's spend of one key. */
export interface SpendRecord {
  /** Recorded cost of finished calls. */
  costMicroUsd: number
  /** Recorded cost plus the budget reservations of calls still in flight. */
  committedMicroUsd: number
}

/** One finished call, as the store counts it. */
export interface UsageIncrement {
  keyId: string
  owner: string
  modelId: string
  /** When the call finished (ms); decides the buckets. */
  at: number
  tokens: TokenUsage
  costMicroUsd: number
  estimated?: boolean
  /** A budget reservation this call held; released by the same atomic write as its spend. */
  reservation?: { month: string; microUsd: number }
  /**
   * How many calls this increment stands for (default 1): the metering sink may merge calls
   * of one key, model and day into one increment; then tokens, cost and reservation are sums.
   */
  requests?: number
  /** With `requests`: how many of them were estimated (default: `estimated ? requests : 0`). */
  estimatedRequests?: number
}

/**
 * One independent atomic write. A call's counters are split in several of these so that each
 * can be retried on its own: retrying them together would re-add the ones that succeeded.
 */
export interface UsageWrite {
  /** The item's sort key, for logs. */
  sk: string
  run(): Promise<void>
}

const pkOf = (keyId: string) => `key#${keyId}`
/** Above every character a catalog model id may contain, to end BETWEEN ranges. */
const RANGE_END = '~'

export class UsageStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The writes that record one call: day bucket, month bucket, month spend (and reservation release). */
  writes(inc: UsageIncrement): UsageWrite[] {
    const day = utcDay(inc.at)
    const month = utcMonth(inc.at)
    const counters: UsageCounters = {
      requests: inc.requests ?? 1,
      inputTokens: inc.tokens.inputTokens,
      outputTokens: inc.tokens.outputTokens,
      cacheReadTokens: inc.tokens.cacheReadTokens,
      cacheWriteTokens: inc.tokens.cacheWriteTokens,
      costMicroUsd: inc.costMicroUsd,
      estimatedRequests: inc.estimatedRequests ?? (inc.estimated ? (inc.requests ?? 1) : 0),
    }
    const bucket = (granularity: Granularity, period: string): UsageWrite => {
      const sk = `${granularity}#${period}#${inc.modelId}`
      return { sk, run: () => this.addCounters(inc, sk, period, counters) }
    }
    const reserved = inc.reservation
    const sameMonth = reserved?.month === month
    const writes = [
      bucket('day', day),
      bucket('month', month),
      {
        sk: `spend#${month}`,
        run: () =>
          this.addSpend(
            inc.keyId,
            inc.owner,
            month,
            inc.costMicroUsd,
            inc.costMicroUsd - (sameMonth ? reserved.microUsd : 0),
          ),
      },
    ]
    // A call that straddled a month end releases its reservation in the month that holds it.
    if (reserved && !sameMonth && reserved.microUsd !== 0) {
      writes.push({
        sk: `spend#${reserved.month}`,
        run: () => this.release(inc.keyId, reserved.month, reserved.microUsd),
      })
    }
    return writes
  }

  private async addCounters(inc: UsageIncrement, sk: string, period: string, c: UsageCounters): Promise<void> {
    const names: Record<string, string> = {
      '#keyId': 'keyId',
      '#owner': 'owner',
      '#modelId': 'modelId',
      '#period': 'period',
    }
    const values: Record<string, unknown> = {
      ':keyId': inc.keyId,
      ':owner': inc.owner,
      ':modelId': inc.modelId,
      ':period': period,
    }
    const adds = COUNTER_FIELDS.map((f) => {
      names[`#${f}`] = f
      values[`:${f}`] = c[f]
      return `#${f} :${f}`
    })
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pkOf(inc.keyId), sk },
        UpdateExpression: `ADD ${adds.join(', ')} ${SET_IDENTITY}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    )
  }

  private async addSpend(keyId: string, owner: string, month: string, cost: number, committed: number): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pkOf(keyId), sk: `spend#${month}` },
        UpdateExpression:
          'ADD costMicroUsd :cost, committedMicroUsd :committed SET keyId = :keyId, #owner = :owner, period = :month',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: {
          ':cost': cost,
          ':committed': committed,
          ':keyId': keyId,
          ':owner': owner,
          ':month': month,
        },
      }),
    )
  }

  /**
   * Reserves `microUsd` of the month's budget, atomically, if the committed spend is still
   * below `limit` (no limit: always). Returns the committed spend after the reservation, or
   * `ok: false` with the current spend when the budget is used up.
   */
  async reserve(
    keyId: string,
    month: string,
    microUsd: number,
    limit?: number,
  ): Promise<{ ok: boolean; spend: SpendRecord }> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: pkOf(keyId), sk: `spend#${month}` },
          UpdateExpression: 'ADD committedMicroUsd :r SET keyId = :keyId, period = :month',
          ...(limit === undefined
            ? {}
            : { ConditionExpression: 'attribute_not_exists(committedMicroUsd) OR committedMicroUsd < :limit' }),
          ExpressionAttributeValues: {
            ':r': microUsd,
            ':keyId': keyId,
            ':month': month,
            ...(limit === undefined ? {} : { ':limit': limit }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      )
      return { ok: true, spend: toSpend(out.Attributes) }
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err
      return { ok: false, spend: (await this.spend(keyId, month)) ?? { costMicroUsd: 0, committedMicroUsd: 0 } }
    }
  }

  /** Gives back a reservation (a call that failed before it could be recorded). */
  async release(keyId: string, month: string, microUsd: number): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pkOf(keyId), sk: `spend#${month}` },
        UpdateExpression: 'ADD committedMicroUsd :r',
        ExpressionAttributeValues: { ':r': -microUsd },
      }),
    )
  }

  /** The month's spend of a key, or undefined when nothing was recorded or reserved. */
  async spend(keyId: string, month: string): Promise<SpendRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: pkOf(keyId), sk: `spend#${month}` },
        ConsistentRead: true,
      }),
    )
    return out.Item ? toSpend(out.Item) : undefined
  }

  /** Per-model buckets of one key from `from` to `to` (inclusive periods of the granularity). */
  async rows(keyId: string, granularity: Granularity, from: string, to: string): Promise<UsageRow[]> {
    const rows: UsageRow[] = []
    let ExclusiveStartKey: Record<string, unknown> | undefined
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': pkOf(keyId),
            ':from': `${granularity}#${from}#`,
            ':to': `${granularity}#${to}#${RANGE_END}`,
          },
          ExclusiveStartKey,
        }),
      )
      for (const item of out.Items ?? []) {
        const row = {
          keyId: String(item.keyId ?? keyId),
          modelId: String(item.modelId),
          period: String(item.period),
          ...zeroCounters(),
        }
        for (const f of COUNTER_FIELDS) row[f] = Number(item[f] ?? 0)
        rows.push(row)
      }
      ExclusiveStartKey = out.LastEvaluatedKey
    } while (ExclusiveStartKey)
    return rows
  }
}

function toSpend(item: Record<string, unknown> | undefined): SpendRecord {
  return { costMicroUsd: Number(item?.costMicroUsd ?? 0), committedMicroUsd: Number(item?.committedMicroUsd ?? 0) }
}
