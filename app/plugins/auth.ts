/**
 * Authentication, default deny: every route needs a principal unless it is in PUBLIC_ROUTES,
 * the one list of public routes. A route's `config.auth` says which credentials it accepts:
 * API keys (the default: OpenAI routes), as `Authorization: Bearer <key>` or `x-api-key`, and/or
 * people's Cognito access tokens (the admin API), as `Authorization: Bearer <jwt>`, limited to
 * the route's Cognito groups (403 for a signed-in person in none of them).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { forbidden, unauthorized } from '../errors.js'
import { GROUPS, looksLikeJwt, type CognitoVerifier, type Group, type UserPrincipal } from '../services/jwt.js'
import type { KeyPrincipal, KeyService } from '../services/keys.js'
import type { LocalConsoleLogin } from '../services/console-login.js'

/** A verified caller: an API key or a signed-in person. */
export type Principal = KeyPrincipal | UserPrincipal

/** Which credentials a route accepts (route `config.auth`); absent = API keys only. */
export interface RouteAuth {
  /** Default `['api-key']`. */
  accept?: ReadonlyArray<Principal['kind']>
  /** People: the Cognito groups allowed (default: every group pennyworth knows). */
  groups?: ReadonlyArray<Group>
  /**
   * The audience this route serves (`mcp`). A key bound to an audience (an OAuth grant's access
   * token, RFC 8707) is refused everywhere else; unbound keys are accepted as before.
   */
  audience?: string
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth
  }
}

/** The only routes reachable without credentials: `METHOD /url-pattern`. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  // Anthropic clients (Claude Code) probe the base URL: app/routes/health.ts.
  'GET /',
  'GET /health',
  'GET /version',
  'GET /v1/.well-known/pennyworth',
  // MCP clients' OAuth discovery (RFC 9728), app/routes/oauth-metadata.ts.
  'GET /.well-known/oauth-protected-resource',
  'GET /.well-known/oauth-protected-resource/v1/mcp',
  // The OAuth authorization-server facade for MCP clients, app/routes/oauth.ts.
  'GET /.well-known/oauth-authorization-server',
  'POST /oauth/register',
  'GET /oauth/authorize',
  'POST /oauth/authorize',
  'GET /oauth/callback',
  'POST /oauth/token',
  // The web console's static files, and local mode's sign-in link exchange: app/routes/console.ts.
  'GET /console',
  'GET /console/',
  'GET /console/assets/:file',
  'POST /console/local-session',
  'DELETE /console/local-session',
])

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller; set for every non-public route before its handler runs. */
    principal: Principal | null
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

/** The calling key, for handlers of key routes (the hook guarantees it is there). */
export function principalOf(request: FastifyRequest): KeyPrincipal {
  if (request.principal?.kind !== 'api-key') throw unauthorized()
  return request.principal
}

/** The signed-in person, for handlers of routes that accept Cognito tokens. */
export function userOf(request: FastifyRequest): UserPrincipal {
  if (request.principal?.kind !== 'user') throw unauthorized(TOKEN_MISSING, 'invalid_token')
  return request.principal
}

const TOKEN_MISSING =
  'Missing or invalid access token. Sign in with `pennyworth login` and send the ' +
  'access token as "Authorization: Bearer <token>".'

/** A bearer token from the Authorization header only (never x-api-key). */
function bearer(request: FastifyRequest): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')
  return m?.[1]
}

async function authenticateUser(
  request: FastifyRequest,
  verifier: CognitoVerifier | undefined,
  groups: ReadonlyArray<string>,
  local: LocalConsoleLogin | undefined,
): Promise<UserPrincipal> {
  const token = bearer(request)
  if (!token) throw unauthorized(TOKEN_MISSING, 'invalid_token')
  if (local?.looksLikeSession(token)) {
    // Never from another machine, whatever the token (services/console-login.ts checks the peer).
    const user = local.verify(token, request.socket.remoteAddress)
    if (!user)
      throw unauthorized(
        'The console session has ended (or the server restarted); open a new sign-in link.',
        'invalid_token',
      )
    return user
  }
  if (!verifier)
    throw unauthorized(
      'Sign-in is not configured on this gateway (PENNYWORTH_COGNITO_USER_POOL_ID).',
      'signin_not_configured',
    )
  const user = await verifier.verify(token)
  if (!user.groups.some((g) => groups.includes(g))) {
    throw forbidden(
      `This needs membership of the Cognito group ${groups.map((g) => `'${g}'`).join(' or ')}.`,
      'group_required',
    )
  }
  return user
}

/**
 * `local` (local mode only, never on Lambda): console sessions opened with `npm start`'s
 * sign-in link are accepted as the local admin, from loopback peers only.
 */
export function registerAuth(
  app: FastifyInstance,
  keys: KeyService,
  verifier?: CognitoVerifier,
  local?: LocalConsoleLogin,
): void {
  app.decorateRequest('principal', null)
  app.addHook('onRequest', async (request, reply) => {
    // Unknown URLs fall through to the 404 handler: there is nothing behind them to protect.
    if (request.is404) return
    const method = request.method === 'HEAD' ? 'GET' : request.method
    if (isPublic(method, request.routeOptions.url)) return
    const auth = request.routeOptions.config.auth
    const accept = auth?.accept ?? ['api-key']
    const presented = presentedKey(request)
    if (
      accept.includes('user') &&
      (!accept.includes('api-key') || (presented !== undefined && looksLikeJwt(presented)))
    ) {
      const user = await authenticateUser(request, verifier, auth?.groups ?? GROUPS, local)
      request.principal = user
      request.log = reply.log = request.log.child({ userSub: user.sub })
      return
    }
    if (!accept.includes('api-key')) throw unauthorized()
    if (!presented) throw unauthorized()
    const principal = await keys.authenticate(presented)
    if (principal.audience !== undefined && principal.audience !== auth?.audience)
      throw unauthorized('This OAuth access token is only accepted by the MCP endpoint (/v1/mcp).', 'invalid_token')
    request.principal = principal
    // The public key id (never the key) on every later log line of this request.
    request.log = reply.log = request.log.child({ keyId: principal.keyId })
  })
}
