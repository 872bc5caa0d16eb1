/**
 * GET /v1/usage: the calling key's own usage (never another key's), in total and per model, by
 * day or month between `from` and `to`, with its budget this month and its rate limits.
 */
import type { FastifyInstance } from 'fastify'
import { principalOf } from '../../plugins/auth.js'
import { UsageQuerystring, UsageResponse } from '../../schemas/usage.js'
import { usageBody } from '../../doors/usage/encode.js'
import type { UsageService } from '../../services/usage.js'

export function usageRoutes(app: FastifyInstance, opts: { usage: UsageService }): void {
  app.get<{ Querystring: UsageQuerystring }>(
    '/usage',
    {
      schema: { querystring: UsageQuerystring, response: { 200: UsageResponse } },
    },
    async (request) => {
      const principal = principalOf(request)
      const { granularity = 'day', from, to } = request.query
      const [report, budget] = await Promise.all([
        opts.usage.query({ keyId: principal.keyId, granularity, from, to }),
        opts.usage.budget(principal.keyId, principal.limits),
      ])
      return usageBody(report, { keyId: principal.keyId, budget, limits: principal.limits ?? {} })
    },
  )
}
