/**
 * GET /v1/usage: query string and response (snake_case, like the rest of the OpenAI-style API).
 * doors/usage/encode.ts `usageBody` maps a report to this shape; the admin API and the MCP `usage`
 * tool reuse it so every usage answer looks the same.
 */
import type { Static } from 'typebox'
import { Type } from '../lib/typebox.js'

const Period = Type.String({ pattern: '^\\d{4}-\\d{2}(-\\d{2})?$' })

export const UsageQuerystring = Type.Object(
  {
    granularity: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('month')], { default: 'day' })),
    /** YYYY-MM-DD or YYYY-MM, inclusive. */
    from: Type.Optional(Period),
    to: Type.Optional(Period),
  },
  { additionalProperties: false },
)
export type UsageQuerystring = Static<typeof UsageQuerystring>

const Counters = {
  requests: Type.Integer(),
  input_tokens: Type.Integer(),
  output_tokens: Type.Integer(),
  cache_read_tokens: Type.Integer(),
  cache_write_tokens: Type.Integer(),
  /** Integer micro-USD (1 USD = 1,000,000): exact. */
  cost_micro_usd: Type.Integer(),
  /** The same in USD, for people. */
  cost_usd: Type.Number(),
  estimated_requests: Type.Integer(),
}
export const CountersObject = Type.Object(Counters)
const ModelRow = Type.Object({ model: Type.String(), ...Counters })
const NullableInt = Type.Union([Type.Integer(), Type.Null()])
const NullableNumber = Type.Union([Type.Number(), Type.Null()])

export const UsageResponse = Type.Object({
  object: Type.Literal('usage'),
  key_id: Type.Optional(Type.String()),
  owner: Type.Optional(Type.String()),
  granularity: Type.Union([Type.Literal('day'), Type.Literal('month')]),
  from: Type.String(),
  to: Type.String(),
  totals: CountersObject,
  models: Type.Array(ModelRow),
  periods: Type.Array(Type.Object({ period: Type.String(), totals: CountersObject, models: Type.Array(ModelRow) })),
  keys: Type.Optional(
    Type.Array(
      Type.Object({
        key_id: Type.String(),
        owner: Type.String(),
        name: Type.Optional(Type.String()),
        totals: CountersObject,
      }),
    ),
  ),
  budget: Type.Optional(
    Type.Object({
      month: Type.String(),
      spent_micro_usd: Type.Integer(),
      spent_usd: Type.Number(),
      reserved_micro_usd: Type.Integer(),
      monthly_budget_micro_usd: NullableInt,
      monthly_budget_usd: NullableNumber,
      soft_budget_micro_usd: NullableInt,
      soft_budget_usd: NullableNumber,
      remaining_micro_usd: NullableInt,
      remaining_usd: NullableNumber,
      soft_reached: Type.Boolean(),
      exceeded: Type.Boolean(),
    }),
  ),
  rate_limits: Type.Optional(Type.Object({ rpm: NullableInt, tpm: NullableInt })),
})
export type UsageResponse = Static<typeof UsageResponse>
