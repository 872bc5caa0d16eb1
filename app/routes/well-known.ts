/**
 * GET /v1/.well-known/pennyworth (public, listed in PUBLIC_ROUTES): what the CLI needs to sign
 * in — the Cognito region, user pool and app client (none of them secret) — and the admin API's
 * version, so a CLI can tell a gateway it does not understand.
 */
import type { FastifyInstance } from 'fastify'
import type { Static } from 'typebox'
import { Type } from '../lib/typebox.js'
import type { CognitoConfig } from '../config.js'

/** Bumped on an incompatible change of the admin API. */
export const ADMIN_API_VERSION = '1'

export const WellKnown = Type.Object({
  name: Type.Literal('pennyworth'),
  version: Type.String(),
  apiVersion: Type.String(),
  apiUrl: Type.Union([Type.String(), Type.Null()]),
  auth: Type.Union([
    Type.Object({
      type: Type.Literal('cognito'),
      region: Type.String(),
      userPoolId: Type.String(),
      clientId: Type.String(),
      /** Cognito flows the app client allows, preferred first. */
      authFlows: Type.Array(Type.String()),
    }),
    Type.Null(),
  ]),
})
export type WellKnown = Static<typeof WellKnown>

export interface WellKnownOptions {
  version: string
  publicUrl: string | undefined
  cognito: CognitoConfig | undefined
}

export function wellKnownRoutes(app: FastifyInstance, opts: WellKnownOptions): void {
  const doc: WellKnown = {
    name: 'pennyworth',
    version: opts.version,
    apiVersion: ADMIN_API_VERSION,
    apiUrl: opts.publicUrl ?? null,
    auth: opts.cognito
      ? {
          type: 'cognito',
          region: opts.cognito.region,
          userPoolId: opts.cognito.userPoolId,
          clientId: opts.cognito.clientId,
          authFlows: ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH'],
        }
      : null,
  }
  app.get('/v1/.well-known/pennyworth', { schema: { response: { 200: WellKnown } } }, async (_request, reply) => {
    void reply.header('cache-control', 'public, max-age=300')
    return doc
  })
}
