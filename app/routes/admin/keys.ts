/**
 * /v1/admin/keys: create (the key is in the response, once), list, show, update, revoke, rotate.
 * People in group `user` see and change only their own keys; admins everyone's.
 */
import type { FastifyInstance } from 'fastify'
import type { Static } from 'typebox'
import { userOf } from '../../plugins/auth.js'
import {
  CreateKeyBody,
  KeyList,
  KeyListQuery,
  KeyParams,
  KeyView,
  KeyWithSecret,
  RotateKeyBody,
  UpdateKeyBody,
} from '../../schemas/admin.js'
import type { AdminService } from '../../services/admin.js'
import { SIGNED_IN } from '../../plugins/route-access.js'

type Params = Static<typeof KeyParams>

export function adminKeyRoutes(app: FastifyInstance, opts: { admin: () => Promise<AdminService> }): void {
  const { admin } = opts

  app.post<{ Body: CreateKeyBody }>(
    '/keys',
    {
      config: SIGNED_IN,
      schema: { body: CreateKeyBody, response: { 201: KeyWithSecret } },
    },
    async (request, reply) => {
      const { key, record } = await (await admin()).createKey(userOf(request), request.body, { requestId: request.id })
      return reply.code(201).send({ key, ...record })
    },
  )

  app.get<{ Querystring: Static<typeof KeyListQuery> }>(
    '/keys',
    {
      config: SIGNED_IN,
      schema: { querystring: KeyListQuery, response: { 200: KeyList } },
    },
    async (request) => ({
      object: 'list' as const,
      data: await (await admin()).listKeys(userOf(request), request.query),
    }),
  )

  app.get<{ Params: Params }>(
    '/keys/:id',
    {
      config: SIGNED_IN,
      schema: { params: KeyParams, response: { 200: KeyView } },
    },
    async (request) => (await admin()).getKey(userOf(request), request.params.id),
  )

  app.patch<{ Params: Params; Body: UpdateKeyBody }>(
    '/keys/:id',
    {
      config: SIGNED_IN,
      schema: { params: KeyParams, body: UpdateKeyBody, response: { 200: KeyView } },
    },
    async (request) =>
      (await admin()).updateKey(userOf(request), request.params.id, request.body, { requestId: request.id }),
  )

  app.post<{ Params: Params }>(
    '/keys/:id/revoke',
    {
      config: SIGNED_IN,
      schema: { params: KeyParams, response: { 200: KeyView } },
    },
    async (request) => (await admin()).revokeKey(userOf(request), request.params.id, { requestId: request.id }),
  )

  app.post<{ Params: Params; Body: RotateKeyBody }>(
    '/keys/:id/rotate',
    {
      config: SIGNED_IN,
      schema: { params: KeyParams, body: RotateKeyBody, response: { 200: KeyWithSecret } },
    },
    async (request) => {
      const { key, record } = await (await admin()).rotateKey(
        userOf(request),
        request.params.id,
        request.body.gracePeriodSeconds ?? 0,
        { requestId: request.id },
      )
      return { key, ...record }
    },
  )
}
