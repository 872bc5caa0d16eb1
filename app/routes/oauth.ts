/**
 * The OAuth authorization-server facade MCP clients use (services/oauth.ts does the work):
 * - `POST /oauth/register`: dynamic client registration (RFC 7591), JSON;
 * - `GET /oauth/authorize`: checks the request, then the local consent page (local sign-in,
 *   loopback only) or a redirect to Cognito's managed login (deployed);
 * - `GET /oauth/callback`: Cognito's answer; the gateway exchanges its code, then asks consent;
 * - `POST /oauth/authorize`: the consent form's answer (CSRF token); redirects to the client;
 * - `POST /oauth/token`: authorization_code and refresh_token grants (form-encoded).
 * https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 *
 * Errors are OAuth's own shape (`{"error","error_description"}`, RFC 6749 §5.2) on the JSON
 * endpoints, an HTML page on the browser ones, or a redirect to the client with `error` once
 * its redirect URI is known to be its own.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isIP } from 'node:net'
import { ApiError } from '../errors.js'
import type { CognitoLogin } from '../services/oauth-cognito.js'
import { pkcePair } from '../services/oauth-cognito.js'
import { consentPage, errorPage, pageHeaders } from '../lib/oauth-page.js'
import type { OAuthService } from '../services/oauth.js'
import { AuthorizeRequestError, OAUTH_PATHS, OAuthError } from '../services/oauth-contract.js'
import type { OAuthUser, PendingAuthorization } from '../store/oauth.js'

/** Who approves locally: the same owner as `npm start`'s dev key. */
export const LOCAL_USER: OAuthUser = { sub: 'local', username: 'local admin' }

export interface OAuthRouteOptions {
  /** The base URL clients reach the gateway at: the issuer, and the base of every URL we hand out. */
  publicBase: (request: FastifyRequest) => string
  /** Path of the MCP endpoint: the one resource tokens are issued for (RFC 8707). */
  mcpPath: string
  /** Built (and its modules loaded) by the first OAuth request. */
  service: () => Promise<OAuthService>
  /** The local consent page, on loopback requests only. */
  localSignIn: boolean
  /** Cognito's managed login (deployed); undefined = none. */
  cognito: (() => Promise<CognitoLogin>) | undefined
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Errors of this route as an HTML page (browser routes) instead of OAuth JSON. */
    oauthHtml?: boolean
  }
}

/**
 * Is this request from this machine to this machine? The socket's both ends are loopback
 * addresses and the Host is a loopback name (a DNS-rebound name is not), so a page on another
 * site can neither reach the local consent page nor read it through a rebound host name.
 */
export function isLoopbackRequest(request: FastifyRequest): boolean {
  const loop = (a: string | undefined) => a !== undefined && (a === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(a))
  const socket = request.raw.socket
  if (!loop(socket?.localAddress) || !loop(socket?.remoteAddress)) return false
  const host = request.hostname.replace(/^\[|\]$/g, '')
  return host === 'localhost' || (isIP(host) !== 0 && loop(host))
}

const cookieName = (pendingId: string) => `pw_oauth_${pendingId.slice(0, 16)}`

function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return v.join('=')
  }
  return undefined
}

/**
 * The CSRF cookie of one pending request: HttpOnly, limited to /oauth, 10 minutes. SameSite=Lax,
 * not Strict: the browser must send it back on Cognito's redirect to /oauth/callback (a
 * cross-site navigation); the consent form's token, not the cookie alone, is what is checked.
 */
function csrfCookie(pending: PendingAuthorization, secure: boolean, clear = false): string {
  const value = clear ? '' : pending.csrf
  return (
    `${cookieName(pending.id)}=${value}; Path=/oauth; HttpOnly; SameSite=Lax; Max-Age=${clear ? 0 : 600}` +
    (secure ? '; Secure' : '')
  )
}

/** `application/x-www-form-urlencoded` into a flat object; a repeated parameter is refused (RFC 6749 §3.1). */
function parseForm(body: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(body)) {
    if (k in out) throw new OAuthError(400, 'invalid_request', `Parameter '${k}' was sent more than once.`)
    out[k] = v
  }
  return out
}

function query(request: FastifyRequest): Record<string, string | undefined> {
  const q = request.query as Record<string, unknown>
  const out: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(q ?? {})) {
    if (Array.isArray(v)) throw new OAuthError(400, 'invalid_request', `Parameter '${k}' was sent more than once.`)
    if (typeof v === 'string') out[k] = v
  }
  return out
}

export function oauthRoutes(app: FastifyInstance, opts: OAuthRouteOptions): void {
  app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_req, body, done) => {
        try {
          done(null, parseForm(body as string))
        } catch (err) {
          done(err as Error, undefined)
        }
      },
    )
    scope.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
      let status: number
      let code: string
      let description: string
      if (err instanceof OAuthError) [status, code, description] = [err.status, err.error, err.message]
      else if (err instanceof ApiError) {
        status = err.status
        code = err.status >= 500 ? 'temporarily_unavailable' : err.status === 403 ? 'access_denied' : 'invalid_request'
        description = err.message
      } else if (err.statusCode !== undefined && err.statusCode < 500) {
        // Fastify's own client errors (bad JSON, wrong content type, too large): safe to show.
        ;[status, code, description] = [err.statusCode, 'invalid_request', err.message]
      } else {
        request.log.error({ err }, 'oauth error')
        ;[status, code, description] = [503, 'temporarily_unavailable', 'Please try again shortly.']
      }
      if (request.routeOptions.config?.oauthHtml)
        return reply.code(status).headers(pageHeaders()).send(errorPage(description))
      return reply
        .code(status)
        .header('cache-control', 'no-store')
        .type('application/json')
        .send({ error: code, error_description: description })
    })

    const base = opts.publicBase
    const resource = (request: FastifyRequest) => `${base(request)}${opts.mcpPath}`
    const secure = (request: FastifyRequest) => base(request).startsWith('https:')
    const callbackUrl = (request: FastifyRequest) => `${base(request)}${OAUTH_PATHS.callback}`

    const showConsent = (reply: FastifyReply, pending: PendingAuthorization) =>
      reply.headers(pageHeaders(pending.redirectUri)).send(
        consentPage({
          clientName: pending.clientName,
          redirectUri: pending.redirectUri,
          username: pending.user?.username ?? '',
          requestId: pending.id,
          csrf: pending.csrf,
          action: OAUTH_PATHS.authorize,
        }),
      )

    scope.post(OAUTH_PATHS.register, async (request, reply) => {
      const svc = await opts.service()
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send(await svc.register(request.body))
    })

    scope.get(OAUTH_PATHS.authorize, { config: { oauthHtml: true } }, async (request, reply) => {
      const params = query(request)
      const local = opts.localSignIn && isLoopbackRequest(request)
      if (!local && !opts.cognito)
        throw new AuthorizeRequestError(
          403,
          'access_denied',
          opts.localSignIn
            ? 'Local sign-in answers only on 127.0.0.1 or localhost, from this computer.'
            : 'Sign-in for MCP clients is not configured on this gateway; connect with an API key.',
        )
      const svc = await opts.service()
      try {
        if (local) {
          const { pending } = await svc.authorize(params, resource(request), { user: LOCAL_USER })
          reply.header('set-cookie', csrfCookie(pending, secure(request)))
          return showConsent(reply, pending)
        }
        const login = await opts.cognito!()
        const { verifier, challenge } = pkcePair()
        const { pending } = await svc.authorize(params, resource(request), { cognitoVerifier: verifier })
        return reply
          .header('set-cookie', csrfCookie(pending, secure(request)))
          .header('cache-control', 'no-store')
          .redirect(login.authorizeUrl(pending.id, challenge, callbackUrl(request)), 302)
      } catch (err) {
        // The redirect URI is the client's own (checked first): errors go back to it.
        if (!(err instanceof OAuthError) || err instanceof AuthorizeRequestError) throw err
        const target = new URL(params.redirect_uri!)
        target.searchParams.set('error', err.error)
        target.searchParams.set('error_description', err.message)
        if (params.state) target.searchParams.set('state', params.state)
        target.searchParams.set('iss', base(request))
        return reply.header('cache-control', 'no-store').redirect(target.href, 302)
      }
    })

    scope.get(OAUTH_PATHS.callback, { config: { oauthHtml: true } }, async (request, reply) => {
      if (!opts.cognito)
        throw new AuthorizeRequestError(404, 'invalid_request', 'There is no sign-in to come back from.')
      const params = query(request)
      const svc = await opts.service()
      const pending = await svc.pending(params.state)
      if (!pending?.cognitoVerifier || pending.user)
        throw new AuthorizeRequestError(
          400,
          'invalid_request',
          'This sign-in expired or was already used; start again.',
        )
      const cookie = readCookie(request, cookieName(pending.id))
      if (!cookie || cookie !== pending.csrf)
        throw new AuthorizeRequestError(403, 'invalid_request', 'This sign-in was started in another browser.')
      if (params.error || !params.code)
        throw new AuthorizeRequestError(400, 'access_denied', 'The sign-in did not complete; start again.')
      const login = await opts.cognito()
      const user = await login.exchange(params.code, pending.cognitoVerifier, callbackUrl(request))
      return showConsent(reply, await svc.signedIn(pending, user))
    })

    scope.post(OAUTH_PATHS.authorize, { config: { oauthHtml: true } }, async (request, reply) => {
      const form = (request.body ?? {}) as Record<string, string | undefined>
      const svc = await opts.service()
      const pending = await svc.pending(form.request_id)
      if (!pending) throw new AuthorizeRequestError(400, 'invalid_request', 'This request expired or was answered.')
      // A locally approved request is answered from this machine only, like its page.
      if (!pending.cognitoVerifier && !(opts.localSignIn && isLoopbackRequest(request)))
        throw new AuthorizeRequestError(403, 'access_denied', 'Local sign-in answers only on a loopback address.')
      const location = await svc.decide(
        pending,
        {
          csrf: form.csrf,
          cookieCsrf: readCookie(request, cookieName(pending.id)),
          allow: form.decision === 'allow',
        },
        base(request),
      )
      return reply
        .header('set-cookie', csrfCookie(pending, secure(request), true))
        .header('cache-control', 'no-store')
        .redirect(location, 303)
    })

    scope.post(OAUTH_PATHS.token, async (request, reply) => {
      if (
        typeof request.body !== 'object' ||
        request.body === null ||
        !request.headers['content-type']?.includes('form')
      )
        throw new OAuthError(400, 'invalid_request', 'Send the parameters as application/x-www-form-urlencoded.')
      const svc = await opts.service()
      const tokens = await svc.token(request.body as Record<string, string>, resource(request))
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(tokens)
    })
  })
}
