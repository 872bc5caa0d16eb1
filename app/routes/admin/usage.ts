/**
 * GET /v1/admin/usage: usage by day or month — a person in `user` sees their own keys only;
 * admins see any key (`key_id`), any person (`owner`: user name, e-mail or sub) or everything.
 * Same response shape as GET /v1/usage.
 */
import type { FastifyInstance } from 'fastify'
import type { Static } from 'typebox'
import { Type } from '../../lib/typebox.js'
import { userOf } from '../../plugins/auth.js'
import { KeyId } from '../../schemas/admin.js'
import { UsageQuerystring, UsageResponse } from '../../schemas/usage.js'
import type { AdminService } from '../../services/admin.js'
import { usageBody } from '../../doors/usage/encode.js'
import { SIGNED_IN } from '../../plugins/route-access.js'

export const AdminUsageQuery = Type.Object(
  {
    ...UsageQuerystring.properties,
    key_id: Type.Optional(KeyId),
    owner: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
  },
  { additionalProperties: false },
)

export function adminUsageRoutes(app: FastifyInstance, opts: { admin: () => Promise<AdminService> }): void {
  app.get<{ Querystring: Static<typeof AdminUsageQuery> }>(
    '/usage',
    {
      config: SIGNED_IN,
      schema: { querystring: AdminUsageQuery, response: { 200: UsageResponse } },
    },
    async (request) => {
      const q = request.query
      const { report, owner } = await (await opts.admin()).usage(userOf(request), {
        keyId: q.key_id,
        owner: q.owner,
        granularity: q.granularity ?? 'day',
        from: q.from,
        to: q.to,
      })
      return usageBody(report, { keyId: q.key_id, owner })
    },
  )
}
