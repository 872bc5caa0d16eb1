/**
 * `usage`: the caller's own usage — the same report as GET /v1/usage (same query schema, same
 * response schema): totals, per model and per day or month, this month's budget and the key's
 * rate limits. Never another key's usage.
 */
import type { Static } from 'typebox'
import { UsageQuerystring, UsageResponse } from '../../schemas/usage.js'
import { usageBody } from '../../doors/usage/encode.js'
import type { UsageService } from '../../services/usage.js'
import { jsonText, type ToolDefinition } from './types.js'

export type UsageArgs = Static<typeof UsageQuerystring>

export function usageTool(deps: { usage: Pick<UsageService, 'query' | 'budget'> }): ToolDefinition<UsageArgs> {
  return {
    name: 'usage',
    title: 'My usage',
    description:
      'Reports what this API key has used: requests, tokens and cost in USD, in total, per model and per ' +
      '`day` or `month` between `from` and `to` (YYYY-MM-DD or YYYY-MM, inclusive; default: this month by day), ' +
      'with the monthly budget and rate limits of the key.',
    inputSchema: UsageQuerystring,
    outputSchema: UsageResponse,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    async run(args, env) {
      const { keyId, limits } = env.principal
      const [report, budget] = await Promise.all([
        deps.usage.query({ keyId, granularity: args.granularity ?? 'day', from: args.from, to: args.to }),
        deps.usage.budget(keyId, limits),
      ])
      const structured = usageBody(report, { keyId, budget, limits: limits ?? {} })
      return { text: jsonText(structured), structured }
    },
  }
}
