/**
 * Usage reports: what keys consumed, by day or month, in total and per model — for key holders
 * (GET /v1/usage), the admin API (per user, everything) and the MCP `usage` tool. Reads the
 * counters services/metering.ts writes; knows nothing of HTTP. Its reports reach clients in the
 * wire shape of doors/usage/encode.ts.
 */
import { badRequest } from '../errors.js'
import type { KeyLimits } from '../store/keys.js'
import {
  COUNTER_FIELDS,
  utcMonth,
  zeroCounters,
  type Granularity,
  type UsageCounters,
  type UsageRow,
  type UsageStore,
} from '../store/usage.js'

export type { Granularity, UsageCounters } from '../store/usage.js'

/** What to report on. Without keyId and owner: every key. */
export interface UsageQuery {
  /** One key. With `owner` too, the key must belong to that owner (else the report is empty). */
  keyId?: string
  /** Every key of this owner. */
  owner?: string
  granularity: Granularity
  /**
   * First period, inclusive: `YYYY-MM-DD` or `YYYY-MM` (for day reports a month means its first
   * day; for month reports a date means its month). Default: start of the current month (day
   * reports) or 11 months before the current one (month reports).
   */
  from?: string
  /** Last period, inclusive, same formats (a month means its last day). Default: today / this month. */
  to?: string
}

/** Counters of one model. */
export interface ModelUsage extends UsageCounters {
  /** Catalog model id. */
  model: string
}

/** One day or month with usage. */
export interface PeriodUsage {
  /** YYYY-MM-DD or YYYY-MM. */
  period: string
  totals: UsageCounters
  models: ModelUsage[]
}

/** One key's share of a multi-key report. */
export interface KeyUsage {
  keyId: string
  owner: string
  name?: string
  totals: UsageCounters
}

export interface UsageReport {
  granularity: Granularity
  /** The normalised inclusive range (periods of the granularity). */
  from: string
  to: string
  totals: UsageCounters
  /** Per model over the whole range, by cost then name. */
  models: ModelUsage[]
  /** Only periods with usage, ascending. */
  periods: PeriodUsage[]
  /** Per key, when the query was not for a single key (keys without usage omitted). */
  keys?: KeyUsage[]
}

/** A key's month against its budget. */
export interface BudgetStatus {
  /** UTC month, YYYY-MM. */
  month: string
  /** Recorded cost of finished calls this month. */
  spentMicroUsd: number
  /** Budget reserved by calls still in flight (worst-case cost, replaced by the real cost when they end). */
  reservedMicroUsd: number
  monthlyBudgetMicroUsd: number | null
  softBudgetMicroUsd: number | null
  /** Budget minus spent and reserved, never negative; null without a budget. */
  remainingMicroUsd: number | null
  softReached: boolean
  /** Requests are refused with 429 budget_exceeded. */
  exceeded: boolean
}

/** Where the key list of owner and global reports comes from (KeyService or KeyStore). */
export interface KeyDirectory {
  list(owner?: string): Promise<ReadonlyArray<{ id: string; owner: string; name?: string }>>
}

export interface UsageServiceOptions {
  store: Pick<UsageStore, 'rows' | 'spend'>
  /**
   * Brings a key's month up to date before it is read: calls past their lease charged at
   * their estimate, settled calls folded into the buckets (services/metering.ts).
   */
  reconcile?: (keyId: string, month: string) => Promise<unknown>
  keys: KeyDirectory
  now?: () => number
  /** Longest range in periods (default 366 days / 120 months). */
  maxDays?: number
  maxMonths?: number
}

const DAY = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/
/** Keys read in parallel for owner and global reports. */
const KEY_CONCURRENCY = 8

function parsePeriod(value: string, param: string, edge: 'from' | 'to', granularity: Granularity): string {
  const m = DAY.exec(value)
  const month = m ? Number(m[2]) : 0
  if (!m || month < 1 || month > 12)
    throw badRequest(`'${param}' must be a date YYYY-MM-DD or a month YYYY-MM; got '${value}'.`, param, 'invalid_value')
  const last = new Date(Date.UTC(Number(m[1]), month, 0)).getUTCDate()
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > last)) {
    throw badRequest(`'${param}' is not a calendar date: '${value}'.`, param, 'invalid_value')
  }
  if (granularity === 'month') return `${m[1]}-${m[2]}`
  return `${m[1]}-${m[2]}-${m[3] ?? (edge === 'from' ? '01' : String(last).padStart(2, '0'))}`
}

const monthIndex = (p: string) => Number(p.slice(0, 4)) * 12 + Number(p.slice(5, 7)) - 1
const monthOf = (index: number) => `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`

/**
 * The query's inclusive range in periods of its granularity, defaults applied.
 * @throws ApiError 400 (param `from` / `to`) for malformed or impossible dates, from > to, or too long a range.
 */
export function usageRange(
  q: Pick<UsageQuery, 'granularity' | 'from' | 'to'>,
  now: number,
  max = { days: 366, months: 120 },
): { from: string; to: string } {
  const g = q.granularity
  const to =
    q.to !== undefined
      ? parsePeriod(q.to, 'to', 'to', g)
      : g === 'day'
        ? new Date(now).toISOString().slice(0, 10)
        : utcMonth(now)
  const from =
    q.from !== undefined
      ? parsePeriod(q.from, 'from', 'from', g)
      : g === 'day'
        ? `${to.slice(0, 7)}-01`
        : monthOf(monthIndex(to) - 11)
  if (from > to) throw badRequest(`'from' (${from}) is after 'to' (${to}).`, 'from', 'invalid_value')
  const span =
    g === 'day'
      ? (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1
      : monthIndex(to) - monthIndex(from) + 1
  const limit = g === 'day' ? max.days : max.months
  if (span > limit)
    throw badRequest(`The range is ${span} ${g}s; at most ${limit} are allowed per query.`, 'from', 'range_too_long')
  return { from, to }
}

function add(into: UsageCounters, c: UsageCounters): void {
  for (const f of COUNTER_FIELDS) into[f] += c[f]
}

const byCostThenName = (a: ModelUsage, b: ModelUsage) =>
  b.costMicroUsd - a.costMicroUsd || a.model.localeCompare(b.model)

/** Aggregates stored rows into a report (totals, per model, per period). */
export function aggregate(rows: readonly UsageRow[], granularity: Granularity, from: string, to: string): UsageReport {
  const totals = zeroCounters()
  const models = new Map<string, ModelUsage>()
  const periods = new Map<string, { totals: UsageCounters; models: Map<string, ModelUsage> }>()
  for (const row of rows) {
    const counters = Object.fromEntries(COUNTER_FIELDS.map((f) => [f, row[f]])) as unknown as UsageCounters
    add(totals, counters)
    let m = models.get(row.modelId)
    if (!m) models.set(row.modelId, (m = { model: row.modelId, ...zeroCounters() }))
    add(m, counters)
    let p = periods.get(row.period)
    if (!p) periods.set(row.period, (p = { totals: zeroCounters(), models: new Map() }))
    add(p.totals, counters)
    let pm = p.models.get(row.modelId)
    if (!pm) p.models.set(row.modelId, (pm = { model: row.modelId, ...zeroCounters() }))
    add(pm, counters)
  }
  return {
    granularity,
    from,
    to,
    totals,
    models: [...models.values()].sort(byCostThenName),
    periods: [...periods.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([period, p]) => ({ period, totals: p.totals, models: [...p.models.values()].sort(byCostThenName) })),
  }
}

export class UsageService {
  private readonly now: () => number
  constructor(private readonly options: UsageServiceOptions) {
    this.now = options.now ?? Date.now
  }

  /**
   * Usage of one key, one owner's keys, or every key over a range, in total, per model and per
   * period. @throws ApiError 400 for a bad range (see usageRange).
   */
  async query(q: UsageQuery): Promise<UsageReport> {
    const { from, to } = usageRange(q, this.now(), {
      days: this.options.maxDays ?? 366,
      months: this.options.maxMonths ?? 120,
    })
    if (q.keyId !== undefined && q.owner === undefined) {
      await this.reconcile(q.keyId, from, to)
      return aggregate(await this.options.store.rows(q.keyId, q.granularity, from, to), q.granularity, from, to)
    }
    let keys = await this.options.keys.list(q.owner)
    if (q.keyId !== undefined) keys = keys.filter((k) => k.id === q.keyId)
    const perKey: Array<{ key: (typeof keys)[number]; rows: UsageRow[] }> = []
    for (let i = 0; i < keys.length; i += KEY_CONCURRENCY) {
      const batch = keys.slice(i, i + KEY_CONCURRENCY)
      perKey.push(
        ...(await Promise.all(
          batch.map(async (key) => {
            await this.reconcile(key.id, from, to)
            return { key, rows: await this.options.store.rows(key.id, q.granularity, from, to) }
          }),
        )),
      )
    }
    const report = aggregate(
      perKey.flatMap((k) => k.rows),
      q.granularity,
      from,
      to,
    )
    if (q.keyId === undefined) {
      report.keys = perKey
        .filter((k) => k.rows.length > 0)
        .map(({ key, rows }) => {
          const totals = zeroCounters()
          for (const r of rows) add(totals, r)
          return { keyId: key.id, owner: key.owner, ...(key.name !== undefined ? { name: key.name } : {}), totals }
        })
        .sort((a, b) => b.totals.costMicroUsd - a.totals.costMicroUsd || a.keyId.localeCompare(b.keyId))
    }
    return report
  }

  /** Reconciles the key's current and previous month when the range touches them (older months were swept). */
  private async reconcile(keyId: string, from: string, to: string): Promise<void> {
    if (!this.options.reconcile) return
    const now = new Date(this.now())
    const current = utcMonth(now.getTime())
    const previous = utcMonth(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0))
    for (const month of [previous, current]) {
      if (month >= from.slice(0, 7) && month <= to.slice(0, 7)) await this.options.reconcile(keyId, month)
    }
  }

  /** A key's spend this month (or `month`, YYYY-MM) against its limits; reconciled first. */
  async budget(keyId: string, limits: KeyLimits | undefined, month = utcMonth(this.now())): Promise<BudgetStatus> {
    await this.options.reconcile?.(keyId, month)
    const spend = await this.options.store.spend(keyId, month)
    const spent = spend?.costMicroUsd ?? 0
    const reserved = Math.max(0, (spend?.committedMicroUsd ?? 0) - spent)
    const budget = limits?.monthlyBudgetMicroUsd ?? null
    const soft = limits?.softBudgetMicroUsd ?? null
    return {
      month,
      spentMicroUsd: spent,
      reservedMicroUsd: reserved,
      monthlyBudgetMicroUsd: budget,
      softBudgetMicroUsd: soft,
      remainingMicroUsd: budget === null ? null : Math.max(0, budget - spent - reserved),
      softReached: soft !== null && spent >= soft,
      exceeded: budget !== null && spent >= budget,
    }
  }
}
