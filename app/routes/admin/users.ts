/**
 * /v1/admin/me (anyone signed in: who am I), /v1/admin/users (admins: create with a group, list,
 * disable) and /v1/admin/audit (admins: the audit trail).
 */
import type { FastifyInstance } from 'fastify'
import type { Static } from 'typebox'
import { userOf } from '../../plugins/auth.js'
import { AuditList, AuditQuery, CreateUserBody, Me, UserList, UserParams, UserView } from '../../schemas/admin.js'
import type { AdminService } from '../../services/admin.js'
import { isAdmin } from '../../services/jwt.js'
import { ADMINS, SIGNED_IN } from '../../plugins/route-access.js'

export function adminUserRoutes(app: FastifyInstance, opts: { admin: () => Promise<AdminService> }): void {
  const { admin } = opts

  app.get('/me', { config: SIGNED_IN, schema: { response: { 200: Me } } }, async (request) => {
    const me = userOf(request)
    return { sub: me.sub, username: me.username, groups: me.groups, admin: isAdmin(me) }
  })

  app.get('/users', { config: ADMINS, schema: { response: { 200: UserList } } }, async (request) => ({
    object: 'list' as const,
    data: await (await admin()).listUsers(userOf(request)),
  }))

  app.post<{ Body: CreateUserBody }>(
    '/users',
    {
      config: ADMINS,
      schema: { body: CreateUserBody, response: { 201: UserView } },
    },
    async (request, reply) =>
      reply.code(201).send(await (await admin()).createUser(userOf(request), request.body, { requestId: request.id })),
  )

  app.post<{ Params: Static<typeof UserParams> }>(
    '/users/:username/disable',
    {
      config: ADMINS,
      schema: { params: UserParams, response: { 200: UserView } },
    },
    async (request) => (await admin()).disableUser(userOf(request), request.params.username, { requestId: request.id }),
  )

  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/audit',
    {
      config: ADMINS,
      schema: { querystring: AuditQuery, response: { 200: AuditList } },
    },
    async (request) => {
      const { from, to, limit } = request.query
      return {
        object: 'list' as const,
        data: await (await admin()).audit(userOf(request), { from, to, limit: limit ? Number(limit) : undefined }),
      }
    },
  )
}
