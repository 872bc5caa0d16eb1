/**
 * Sign-in and the admin API client. Tokens live in this module's memory only (never in storage
 * or cookies): a reload signs in again — locally with a new link, deployed through the managed
 * login, whose own session usually makes that one redirect without typing.
 *
 * Deployed: OAuth 2.0 authorization code + PKCE (RFC 7636) with the console's public Cognito app
 * client (https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html). Only
 * the PKCE verifier and state cross the redirect, in sessionStorage, and are deleted on return.
 * The access token is refreshed with the refresh token (kept in memory too) a minute before it
 * expires. Local: the `#login=` token of `npm start`'s link buys a session at /console/local-session.
 */

/** The settings the server embeds in index.html (app/routes/console.ts ConsoleSettings). */
export interface Settings {
  signIn: 'local' | 'cognito' | 'none'
  cognito?: { loginUrl: string; clientId: string }
  apiUrl: string | null
}

export interface Me {
  sub: string
  username: string
  groups: string[]
  admin: boolean
}

/** An admin API error, with the gateway's message and code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null,
  ) {
    super(message)
  }
}

/** The gateway's error shape (OpenAI's). */
interface ErrorBody {
  message?: string
  code?: string | null
}

interface Tokens {
  access: string
  refresh?: string
  /** ms since epoch */
  expiresAt: number
}

let tokens: Tokens | undefined
let refreshTimer: ReturnType<typeof setTimeout> | undefined
let onSignedOut: (reason: string) => void = () => {}

export function readSettings(): Settings {
  const meta = document.querySelector('meta[name="pennyworth-console"]')
  try {
    return JSON.parse(meta?.getAttribute('content') || '') as Settings
  } catch {
    return { signIn: 'none', apiUrl: null }
  }
}

/** Where API clients should point: the public URL, or this page's origin. */
export const gatewayUrl = (s: Settings) => (s.apiUrl ?? location.origin).replace(/\/+$/, '')

const redirectUri = () => `${location.origin}/console/`

function base64url(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const random = (n: number) => base64url(crypto.getRandomValues(new Uint8Array(n)))

/** Deployed: go to the managed login (PKCE S256). */
export async function startCognitoSignIn(s: Settings): Promise<void> {
  if (!s.cognito) return
  const verifier = random(48)
  const state = random(16)
  sessionStorage.setItem('pw-pkce', JSON.stringify({ verifier, state }))
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))))
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: s.cognito.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid email profile',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })
  location.assign(`${s.cognito.loginUrl}/oauth2/authorize?${q}`)
}

async function tokenRequest(s: Settings, body: Record<string, string>): Promise<Tokens> {
  const res = await fetch(`${s.cognito!.loginUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: s.cognito!.clientId, ...body }),
  })
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>
  if (!res.ok || typeof json.access_token !== 'string')
    throw new ApiError(res.status, `Sign-in failed: ${String(json.error ?? res.status)}`, 'sign_in_failed')
  return {
    access: json.access_token,
    refresh: typeof json.refresh_token === 'string' ? json.refresh_token : body.refresh_token,
    expiresAt: Date.now() + Number(json.expires_in ?? 3600) * 1000,
  }
}

function schedule(s: Settings): void {
  clearTimeout(refreshTimer)
  if (!tokens) return
  const refresh = tokens.refresh
  const wait = Math.max(5_000, tokens.expiresAt - Date.now() - 60_000)
  refreshTimer = setTimeout(async () => {
    if (!refresh) return signOut('Your session has ended; sign in again.')
    try {
      tokens = await tokenRequest(s, { grant_type: 'refresh_token', refresh_token: refresh })
      schedule(s)
    } catch {
      signOut('Your session could not be renewed; sign in again.')
    }
  }, wait)
}

/**
 * Finishes a sign-in the URL carries (a local link's fragment, or the managed login's code),
 * removing it from the address bar first. Resolves true when signed in.
 */
export async function completeSignIn(s: Settings, signedOut: (reason: string) => void): Promise<boolean> {
  onSignedOut = signedOut
  const hash = /^#login=([A-Za-z0-9_-]+)$/.exec(location.hash)
  if (hash) {
    history.replaceState(null, '', `${location.pathname}#/keys`)
    const res = await fetch('/console/local-session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: hash[1] }),
    })
    const json = (await res.json().catch(() => ({}))) as { token?: string; expiresAt?: string; error?: ErrorBody }
    if (!res.ok || !json.token)
      throw new ApiError(res.status, json.error?.message ?? 'Sign-in failed.', json.error?.code ?? null)
    tokens = { access: json.token, expiresAt: Date.parse(json.expiresAt!) }
    clearTimeout(refreshTimer)
    refreshTimer = setTimeout(
      () => signOut('The local session has ended; open a new link.'),
      tokens.expiresAt - Date.now(),
    )
    return true
  }
  const q = new URLSearchParams(location.search)
  if (s.signIn === 'cognito' && q.has('code')) {
    history.replaceState(null, '', `${location.pathname}#/keys`)
    const saved = JSON.parse(sessionStorage.getItem('pw-pkce') ?? 'null') as { verifier: string; state: string } | null
    sessionStorage.removeItem('pw-pkce')
    if (!saved || saved.state !== q.get('state'))
      throw new ApiError(400, 'The sign-in answer did not match this page (state); try again.', 'state_mismatch')
    tokens = await tokenRequest(s, {
      grant_type: 'authorization_code',
      code: q.get('code')!,
      redirect_uri: redirectUri(),
      code_verifier: saved.verifier,
    })
    schedule(s)
    return true
  }
  if (q.has('error')) {
    history.replaceState(null, '', location.pathname)
    throw new ApiError(400, `Sign-in failed: ${q.get('error_description') ?? q.get('error')}`, q.get('error'))
  }
  return false
}

/** Forgets the tokens (and, deployed, ends the managed login session). */
export function signOut(reason = 'Signed out.', s?: Settings): void {
  if (tokens && s?.signIn === 'local')
    void fetch('/console/local-session', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${tokens.access}` },
    }).catch(() => {})
  tokens = undefined
  clearTimeout(refreshTimer)
  if (s?.signIn === 'cognito' && s.cognito) {
    const q = new URLSearchParams({ client_id: s.cognito.clientId, logout_uri: redirectUri() })
    location.assign(`${s.cognito.loginUrl}/logout?${q}`)
    return
  }
  onSignedOut(reason)
}

/** Calls the admin API with the bearer token; throws ApiError with the gateway's message. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  if (!tokens) throw new ApiError(401, 'Not signed in.', 'invalid_token')
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${tokens.access}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const json = (await res.json().catch(() => ({}))) as { error?: ErrorBody }
  if (!res.ok) {
    const err = new ApiError(res.status, json?.error?.message ?? `HTTP ${res.status}`, json?.error?.code ?? null)
    if (res.status === 401) signOut(err.message)
    throw err
  }
  return json as T
}
