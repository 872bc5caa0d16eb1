/**
 * Authentication, default deny: every route needs a principal unless it is in PUBLIC_ROUTES,
 * the one list of public routes. Keys come as `Authorization: Bearer <key>` or `x-api-key`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { unauthorized } from '../errors.js'
import type { KeyPrincipal, KeyService } from '../services/keys.js'

/** The only routes reachable without credentials: `METHOD /url-pattern`. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  'GET /health',
  'GET /version',
])

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller; set for every non-public route before its handler runs. */
    principal: KeyPrincipal | null
  }
}

/** The credential a request presents, if any. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth)
    if (m) return m[1]
  }
  const xApiKey = request.headers['x-api-key']
  if (typeof xApiKey === 'string' && xApiKey.trim()) return xApiKey.trim()
  return undefined
}

export function isPublic(method: string, url: string | undefined): boolean {
  return url !== undefined && PUBLIC_ROUTES.has(`${method} ${url}`)
}

/** The caller, for handlers of non-public routes (the hook guarantees it is there). */
export function principalOf(request: FastifyRequest): KeyPrincipal {
  if (!request.principal) throw unauthorized()
  return request.principal
}

export function registerAuth(app: FastifyInstance, keys: KeyService): void {
  app.decorateRequest('principal', null)
  app.addHook('onRequest', async (request, reply) => {
    // Unknown URLs fall through to the 404 handler: there is nothing behind them to protect.
    if (request.is404) return
    const method = request.method === 'HEAD' ? 'GET' : request.method
    if (isPublic(method, request.routeOptions.url)) return
    const key = presentedKey(request)
    if (!key) throw unauthorized()
    request.principal = await keys.authenticate(key)
    // The public key id (never the key) on every later log line of this request.
    request.log = reply.log = request.log.child({ keyId: request.principal.keyId })
  })
}
