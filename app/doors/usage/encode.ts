/**
 * The usage report's wire shape (snake_case, like the rest of the OpenAI-style API; the schema is
 * schemas/usage.ts `UsageResponse`): one encoding for GET /v1/usage, the admin API's usage and
 * the MCP `usage` tool, so every usage answer looks the same.
 */
import type { Static } from 'typebox'
import type { CountersObject, UsageResponse } from '../../schemas/usage.js'
import type { BudgetStatus, ModelUsage, UsageCounters, UsageReport } from '../../services/usage.js'

const toUsd = (micro: number) => micro / 1e6
const nullableUsd = (micro: number | null) => (micro === null ? null : toUsd(micro))

function wireCounters(c: UsageCounters): Static<typeof CountersObject> {
  return {
    requests: c.requests,
    input_tokens: c.inputTokens,
    output_tokens: c.outputTokens,
    cache_read_tokens: c.cacheReadTokens,
    cache_write_tokens: c.cacheWriteTokens,
    cost_micro_usd: c.costMicroUsd,
    cost_usd: toUsd(c.costMicroUsd),
    estimated_requests: c.estimatedRequests,
  }
}
/** The key's rate limits (store/keys.ts KeyLimits has them; null or absent = none). */
interface RateLimits {
  rpm?: number | null
  tpm?: number | null
}

const modelRow = (m: ModelUsage) => ({ model: m.model, ...wireCounters(m) })

/** A usage report (plus, for one key, its budget and limits) in the wire shape. */
export function usageBody(
  report: UsageReport,
  extra: { keyId?: string; owner?: string; budget?: BudgetStatus; limits?: RateLimits } = {},
): UsageResponse {
  const body: UsageResponse = {
    object: 'usage',
    ...(extra.keyId !== undefined ? { key_id: extra.keyId } : {}),
    ...(extra.owner !== undefined ? { owner: extra.owner } : {}),
    granularity: report.granularity,
    from: report.from,
    to: report.to,
    totals: wireCounters(report.totals),
    models: report.models.map(modelRow),
    periods: report.periods.map((p) => ({
      period: p.period,
      totals: wireCounters(p.totals),
      models: p.models.map(modelRow),
    })),
  }
  if (report.keys) {
    body.keys = report.keys.map((k) => ({
      key_id: k.keyId,
      owner: k.owner,
      ...(k.name !== undefined ? { name: k.name } : {}),
      totals: wireCounters(k.totals),
    }))
  }
  if (extra.budget) {
    const b = extra.budget
    body.budget = {
      month: b.month,
      spent_micro_usd: b.spentMicroUsd,
      spent_usd: toUsd(b.spentMicroUsd),
      reserved_micro_usd: b.reservedMicroUsd,
      monthly_budget_micro_usd: b.monthlyBudgetMicroUsd,
      monthly_budget_usd: nullableUsd(b.monthlyBudgetMicroUsd),
      soft_budget_micro_usd: b.softBudgetMicroUsd,
      soft_budget_usd: nullableUsd(b.softBudgetMicroUsd),
      remaining_micro_usd: b.remainingMicroUsd,
      remaining_usd: nullableUsd(b.remainingMicroUsd),
      soft_reached: b.softReached,
      exceeded: b.exceeded,
    }
  }
  if (extra.limits) body.rate_limits = { rpm: extra.limits.rpm ?? null, tpm: extra.limits.tpm ?? null }
  return body
}
