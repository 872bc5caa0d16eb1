/**
 * MCP OAuth test helpers: an OAuthClientProvider for the SDK client (in memory, loopback
 * redirect), a loopback callback listener that receives the authorization response, and a
 * "browser" that answers the gateway's consent page with plain HTTP (GET the page, POST the
 * form with its CSRF token and cookie, follow the redirect to the callback listener).
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js'
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** What the loopback listener received. */
export interface CallbackHit {
  params: URLSearchParams
}

/** A loopback HTTP listener for `/callback`, as a native MCP client runs one (RFC 8252 §7.3). */
export async function startCallbackListener(t: Teardown): Promise<{ url: string; hits: CallbackHit[] }> {
  const hits: CallbackHit[] = []
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (u.pathname === '/callback') hits.push({ params: u.searchParams })
    res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.')
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  t.teardown(() => new Promise<void>((ok) => server.close(() => ok())))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}/callback`, hits }
}

/** An in-memory OAuthClientProvider, as a desktop MCP client would implement one. */
export class MemoryOAuthProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined
  saved: OAuthTokens | undefined
  verifier = ''
  lastState = ''
  /** The URL the SDK asked to open in a browser. */
  authorizationUrl: URL | undefined

  constructor(
    readonly redirectUrl: string,
    readonly clientName = 'pennyworth test client',
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.clientName,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }
  }

  state(): string {
    this.lastState = randomBytes(16).toString('hex')
    return this.lastState
  }

  clientInformation() {
    return this.client
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info
  }
  tokens() {
    return this.saved
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url
  }
  saveCodeVerifier(v: string) {
    this.verifier = v
  }
  codeVerifier() {
    return this.verifier
  }
}

export interface PageResponse {
  status: number
  location: string | null
  cookie: string | undefined
  text: string
  headers: Headers
}

async function request(url: string, init: RequestInit = {}): Promise<PageResponse> {
  const res = await fetch(url, { ...init, redirect: 'manual' })
  const setCookie = res.headers.get('set-cookie')
  return {
    status: res.status,
    location: res.headers.get('location'),
    cookie: setCookie ? setCookie.split(';')[0] : undefined,
    text: await res.text(),
    headers: res.headers,
  }
}

/** The hidden fields of the consent form. */
export function formFields(html: string): { requestId: string; csrf: string } {
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1]
  const requestId = field('request_id')
  const csrf = field('csrf')
  if (!requestId || !csrf) throw new Error(`no consent form in: ${html.slice(0, 300)}`)
  return { requestId, csrf }
}

/** GET the authorization URL: the consent page (and its CSRF cookie), or a redirect. */
export const openAuthorization = (url: string | URL, headers: Record<string, string> = {}) =>
  request(String(url), { headers })

/** POST the consent form's answer. */
export function answerConsent(
  base: string,
  fields: { requestId: string; csrf: string },
  cookie: string | undefined,
  decision: 'allow' | 'deny' = 'allow',
): Promise<PageResponse> {
  return request(`${base}/oauth/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams({ request_id: fields.requestId, csrf: fields.csrf, decision }).toString(),
  })
}

/**
 * The whole browser part: open the authorization URL, allow (or deny) on the consent page, and
 * return the parameters the client's redirect URI receives (the redirect is followed for real).
 */
export async function consentInBrowser(
  base: string,
  authorizationUrl: string | URL,
  decision: 'allow' | 'deny' = 'allow',
): Promise<URLSearchParams> {
  const page = await openAuthorization(authorizationUrl)
  if (page.status !== 200) throw new Error(`consent page: ${page.status} ${page.location ?? page.text.slice(0, 200)}`)
  const answer = await answerConsent(base, formFields(page.text), page.cookie, decision)
  if (answer.status !== 303 || !answer.location) throw new Error(`consent answer: ${answer.status} ${answer.text}`)
  await fetch(answer.location) // the loopback listener
  return new URL(answer.location).searchParams
}

/** A PKCE pair (RFC 7636, S256). */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** POST /oauth/register (RFC 7591) with JSON metadata. */
export async function register(
  base: string,
  metadata: Record<string, unknown>,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  })
  return { status: res.status, body: await res.json() }
}

/** POST /oauth/token with form parameters. */
export async function token(base: string, params: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  })
  return { status: res.status, body: await res.json() }
}
