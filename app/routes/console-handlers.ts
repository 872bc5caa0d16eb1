/**
 * The web console's handlers (registered by console.ts, loaded by the first console request).
 * Static files built by scripts/build-console.ts (index.html and
 * content-hashed assets), read from disk on first request and kept in memory — nothing is read at
 * start, so the console costs a cold start nothing. Every console response carries a strict
 * Content-Security-Policy (no inline script or style, no third-party origin except the pool's own
 * managed login for the token exchange) and frame-ancestors 'none'. The page talks to the admin API
 * with bearer tokens only (no cookies: nothing to forge across sites).
 *
 * Local mode also answers POST /console/local-session: the one-time token of `npm start`'s sign-in
 * link, from a loopback peer to a loopback Host, buys a local admin session (services/console-login.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ApiError, badRequest, notFound, unauthorized } from '../errors.js'
import { isLoopbackAddress, type LocalConsoleLogin } from '../services/console-login.js'

/** What the page needs to know to sign in; embedded in index.html as a meta tag (no inline script). */
export interface ConsoleSettings {
  /** `local`: npm start's sign-in link; `cognito`: managed login with PKCE; `none`: nobody can sign in. */
  signIn: 'local' | 'cognito' | 'none'
  /** Managed login base URL and the console's public app client (signIn `cognito`). */
  cognito?: { loginUrl: string; clientId: string }
  /** The gateway's public URL for the Connect page; null = the page's own origin. */
  apiUrl: string | null
}

export interface ConsoleRouteOptions {
  /** Directory of the built console (index.html, assets/); undefined or missing = 404 `console_not_built`. */
  dir: string | undefined
  settings: ConsoleSettings
  /** Local mode only: the sign-in links and sessions. */
  local?: LocalConsoleLogin
  /** Called when a used or expired link is tried, so the terminal can show a fresh one. */
  onStaleLink?: () => void
}

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  map: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
}
/** Built asset names: `<name>-<hash>.<ext>`, nothing that could climb out of the directory. */
const ASSET = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.(js|css|svg|map|txt)$/
const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i

/** The Content-Security-Policy of every console response. */
export function consoleCsp(settings: ConsoleSettings): string {
  // The browser posts the authorization code (and refresh token) to the pool's /oauth2/token.
  const login = settings.signIn === 'cognito' && settings.cognito ? ` ${new URL(settings.cognito.loginUrl).origin}` : ''
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${login}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}

const escapeAttr = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** The console's request handlers for one app (its file caches live here). */
export function createConsole(opts: ConsoleRouteOptions) {
  const headers: Record<string, string> = {
    'content-security-policy': consoleCsp(opts.settings),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
    'strict-transport-security': 'max-age=31536000',
  }
  const secure = (reply: FastifyReply) => reply.headers(headers)
  const notBuilt = () =>
    notFound('The console is not built here: run `npm run build:console` (npm start does it).', 'console_not_built')

  // Read once, on first use; a failed read (not built yet) is retried by the next request.
  let index: Promise<string> | undefined
  const indexHtml = () =>
    (index ??= (async () => {
      if (!opts.dir) throw notBuilt()
      const html = await readFile(join(opts.dir, 'index.html'), 'utf8').catch(() => {
        throw notBuilt()
      })
      const meta = `<meta name="pennyworth-console" content="${escapeAttr(JSON.stringify(opts.settings))}">`
      return html.replace('<meta name="pennyworth-console" content="">', meta)
    })().catch((err: unknown) => {
      index = undefined
      throw err
    }))
  const assets = new Map<string, Buffer>()

  return {
    redirect: (reply: FastifyReply) => secure(reply).redirect('/console/', 308),

    async index(reply: FastifyReply) {
      const html = await indexHtml()
      // Always revalidated: it names the current hashed assets.
      return secure(reply).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html)
    },

    async asset(file: string, reply: FastifyReply) {
      const m = ASSET.exec(file)
      if (!m || !opts.dir) throw notFound(`No console file '${file}'.`, 'not_found')
      let body = assets.get(file)
      if (!body) {
        body = await readFile(join(opts.dir, 'assets', file)).catch(() => {
          throw notFound(`No console file '${file}'.`, 'not_found')
        })
        assets.set(file, body)
      }
      // Names change with content, so a copy never goes stale.
      return secure(reply).header('cache-control', 'public, max-age=31536000, immutable').type(TYPES[m[1]!]!).send(body)
    },

    async localSession(request: FastifyRequest, reply: FastifyReply) {
      secure(reply).header('cache-control', 'no-store')
      if (!opts.local) throw notFound('Local sign-in exists only in local mode (npm start).', 'not_found')
      // A page elsewhere cannot reach this through a DNS name that resolves to 127.0.0.1.
      if (!isLoopbackAddress(request.socket.remoteAddress) || !LOOPBACK_HOST.test(request.headers.host ?? ''))
        throw new ApiError(
          403,
          'Local sign-in is accepted on a loopback address only.',
          'permission_error',
          'not_loopback',
        )
      const body = request.body as { login?: unknown } | null
      const login = body?.login
      if (typeof login !== 'string' || login.length === 0 || login.length > 200)
        throw badRequest('Send {"login": "<the token after #login= in the link>"}.', 'login')
      const session = opts.local.exchange(login)
      if (!session) {
        opts.onStaleLink?.()
        throw unauthorized(
          'This sign-in link was already used or has expired. The terminal running `npm start` shows a new one.',
          'invalid_login_link',
        )
      }
      return { ...session, user: { username: 'local-admin', admin: true } }
    },

    /** Sign-out: the session named by the bearer token ends now (204 whether or not it existed). */
    async endLocalSession(request: FastifyRequest, reply: FastifyReply) {
      secure(reply).header('cache-control', 'no-store')
      if (!opts.local) throw notFound('Local sign-in exists only in local mode (npm start).', 'not_found')
      const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1]
      if (token) opts.local.revoke(token)
      return reply.code(204).send()
    },
  }
}

export type ConsoleHandlers = ReturnType<typeof createConsole>
