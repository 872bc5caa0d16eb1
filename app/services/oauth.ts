/**
 * The OAuth 2.1 authorization-server facade MCP clients sign a person in through
 * (https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization): dynamic client
 * registration (RFC 7591), authorization requests with PKCE S256 and state, consent, codes, and
 * the token endpoint's authorization_code and refresh_token grants (draft-ietf-oauth-v2-1-13).
 *
 * A grant is an API key record owned by the person (store/keys.ts): its secret is the access
 * token (short-lived: `secretExpiresAt`), it is bound to the MCP endpoint (`audience: mcp`), and
 * it carries the hash of its refresh token, rotated on every use. So scope (models), budgets,
 * rate limits, metering, listing and revocation are the key machinery's, unchanged. Codes,
 * refresh tokens and access tokens are stored only as SHA-256 hashes. docs/mcp-oauth.md has the
 * threat model.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { KeyConflictError, type ApiKeyRecord, type KeyStore } from '../store/keys.js'
import {
  AlreadyUsedError,
  type OAuthClientRecord,
  type OAuthStore,
  type OAuthUser,
  type PendingAuthorization,
} from '../store/oauth.js'
import { hashSecret, mintKey, newKeyId, type KeyService } from './keys.js'
import { AuthorizeRequestError, MCP_AUDIENCE, OAUTH_PATHS, OAuthError } from './oauth-contract.js'

export { AuthorizeRequestError, MCP_AUDIENCE, OAUTH_PATHS, OAuthError }

/** How long an authorization code can be redeemed (OAuth 2.1 §4.1.2: short). */
export const CODE_TTL_SEC = 60
/** How long a person has to sign in and answer the consent page. */
export const PENDING_TTL_SEC = 10 * 60
/** How long a dynamic registration is kept; an MCP client re-registers after an invalid_client. */
export const CLIENT_TTL_SEC = 180 * 86_400

const REFRESH_PATTERN = /^pwr-([a-z2-9]{12})-([A-Za-z0-9_-]{43})$/
const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/
/** RFC 7636 §4.1: 43–128 characters of the unreserved set. */
const VERIFIER_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/

/** Token endpoint answer (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_token: string
}

export interface OAuthServiceOptions {
  store: OAuthStore
  /** The keys table: grants are key records. */
  keyStore: Pick<KeyStore, 'create' | 'get' | 'refreshGrant' | 'revoke'>
  /** The app's key service, whose cache forgets a grant changed here. */
  keys: Pick<KeyService, 'forget' | 'revoke'>
  accessTokenTtlSec: number
  refreshTokenTtlDays: number
  now?: () => number
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])

/** A loopback redirect URI (RFC 8252 §7.3): http on 127.0.0.1, [::1] or localhost. */
export function isLoopbackRedirect(u: URL): boolean {
  return u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname)
}

/**
 * May a client register this redirect URI? Loopback http (RFC 8252 §7.3), https, or a
 * private-use scheme in reverse-domain form (RFC 8252 §7.1, e.g. `cursor.app://…`); never
 * plain http elsewhere, never a fragment, never userinfo, never javascript:/data:/file:.
 */
export function acceptableRedirectUri(raw: string): boolean {
  if (raw.length > 2000) return false
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    return false
  }
  if (u.hash || u.username || u.password) return false
  if (isLoopbackRedirect(u)) return true
  if (u.protocol === 'https:') return u.hostname !== ''
  const scheme = u.protocol.slice(0, -1)
  return /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/.test(scheme)
}

/**
 * Does the requested redirect URI match one the client registered? Exactly, or (loopback only,
 * RFC 8252 §7.3) with any port: same scheme, host, path and query.
 */
export function redirectUriMatches(registered: readonly string[], requested: string): boolean {
  if (registered.includes(requested)) return true
  let req: URL
  try {
    req = new URL(requested)
  } catch {
    return false
  }
  if (!isLoopbackRedirect(req) || req.hash || req.username || req.password) return false
  return registered.some((r) => {
    const reg = new URL(r)
    return (
      isLoopbackRedirect(reg) &&
      reg.hostname === req.hostname &&
      reg.pathname === req.pathname &&
      reg.search === req.search
    )
  })
}

/** RFC 7636 §4.6: BASE64URL(SHA256(verifier)) compared in constant time. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'))
  const expected = Buffer.from(challenge)
  return computed.length === expected.length && timingSafeEqual(computed, expected)
}

/** Constant-time comparison of two strings (CSRF tokens). */
export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

const random = (bytes = 32) => randomBytes(bytes).toString('base64url')
const seconds = (ms: number) => Math.floor(ms / 1000)

/** The parameters of an authorization request, as received. */
export type AuthorizeParams = Record<string, string | undefined>

export class OAuthService {
  private readonly now: () => number

  constructor(private readonly options: OAuthServiceOptions) {
    this.now = options.now ?? Date.now
  }

  /** RFC 7591 §3.1: registers a public client; the response echoes what was kept. */
  async register(body: unknown): Promise<Record<string, unknown>> {
    const meta = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
    const uris = meta.redirect_uris
    if (!Array.isArray(uris) || uris.length === 0 || uris.length > 10 || !uris.every((u) => typeof u === 'string'))
      throw new OAuthError(400, 'invalid_redirect_uri', 'redirect_uris must be a list of 1 to 10 URIs.')
    const bad = uris.find((u) => !acceptableRedirectUri(u))
    if (bad !== undefined)
      throw new OAuthError(
        400,
        'invalid_redirect_uri',
        'Redirect URIs must be http on a loopback address (127.0.0.1, [::1], localhost), https, ' +
          'or a private-use scheme such as com.example.app:/callback; no fragments.',
      )
    for (const [field, allowed] of [
      ['grant_types', ['authorization_code', 'refresh_token']],
      ['response_types', ['code']],
    ] as const) {
      const v = meta[field]
      if (v === undefined) continue
      if (!Array.isArray(v) || !v.every((x) => (allowed as readonly string[]).includes(x)))
        throw new OAuthError(400, 'invalid_client_metadata', `${field} may only contain ${allowed.join(', ')}.`)
    }
    const name = meta.client_name
    if (name !== undefined && (typeof name !== 'string' || name.length > 100 || hasControlCharacters(name)))
      throw new OAuthError(400, 'invalid_client_metadata', 'client_name must be text of at most 100 characters.')
    const now = seconds(this.now())
    const client: OAuthClientRecord = {
      clientId: `mcp_${random(16)}`,
      clientName: typeof name === 'string' && name.trim() ? name.trim() : 'MCP client',
      redirectUris: uris as string[],
      createdAt: now,
      expiresAt: now + CLIENT_TTL_SEC,
    }
    await this.options.store.putClient(client)
    return {
      client_id: client.clientId,
      client_id_issued_at: now,
      client_name: client.clientName,
      redirect_uris: client.redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // Public clients only (native apps cannot keep a secret; PKCE protects the code).
      token_endpoint_auth_method: 'none',
    }
  }

  private async client(clientId: string | undefined): Promise<OAuthClientRecord | undefined> {
    if (!clientId || clientId.length > 100) return undefined
    const client = await this.options.store.getClient(clientId)
    return client && client.expiresAt > seconds(this.now()) ? client : undefined
  }

  /**
   * Checks an authorization request (OAuth 2.1 §4.1.1). An unknown client or a redirect URI it
   * did not register is an AuthorizeRequestError (shown, never redirected to: RFC 6749
   * §4.1.2.1); any other problem is an OAuthError the caller sends to the redirect URI.
   * Returns the stored pending request (`user` given when already known: local sign-in).
   */
  async authorize(
    params: AuthorizeParams,
    expectedResource: string,
    extra: { user?: OAuthUser; cognitoVerifier?: string } = {},
  ): Promise<{ pending: PendingAuthorization; redirectUri: string }> {
    const client = await this.client(params.client_id)
    if (!client) throw new AuthorizeRequestError(400, 'invalid_client', 'Unknown client_id: register the client first.')
    const redirectUri = params.redirect_uri
    if (!redirectUri || !redirectUriMatches(client.redirectUris, redirectUri))
      throw new AuthorizeRequestError(
        400,
        'invalid_request',
        'redirect_uri is missing or is not one this client registered.',
      )
    // From here on errors go back to the client's redirect URI.
    if (params.response_type !== 'code')
      throw new OAuthError(400, 'unsupported_response_type', 'Only response_type=code is supported.')
    if (!params.state || params.state.length > 500)
      throw new OAuthError(400, 'invalid_request', 'state is required (at most 500 characters).')
    if (params.code_challenge_method !== 'S256')
      throw new OAuthError(400, 'invalid_request', 'PKCE is required with code_challenge_method=S256.')
    if (!params.code_challenge || !CHALLENGE_PATTERN.test(params.code_challenge))
      throw new OAuthError(400, 'invalid_request', 'code_challenge must be a base64url SHA-256 (43 characters).')
    if (params.resource !== undefined && !sameResource(params.resource, expectedResource))
      throw new OAuthError(400, 'invalid_target', `This server only issues tokens for ${expectedResource}.`)
    const pending: PendingAuthorization = {
      id: random(),
      clientId: client.clientId,
      clientName: client.clientName,
      redirectUri,
      codeChallenge: params.code_challenge,
      state: params.state,
      resource: expectedResource,
      csrf: random(),
      ...(extra.cognitoVerifier ? { cognitoVerifier: extra.cognitoVerifier } : {}),
      ...(extra.user ? { user: extra.user } : {}),
      expiresAt: seconds(this.now()) + PENDING_TTL_SEC,
    }
    await this.options.store.putPending(pending)
    return { pending, redirectUri }
  }

  /** A pending request that has not expired or been answered; undefined otherwise. */
  async pending(id: string | undefined): Promise<PendingAuthorization | undefined> {
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined
    const p = await this.options.store.getPending(id)
    if (!p || p.expiresAt <= seconds(this.now()) || (p as { usedAt?: string }).usedAt) return undefined
    return p
  }

  /** Deployed: records the person Cognito signed in (once per request). */
  async signedIn(pending: PendingAuthorization, user: OAuthUser): Promise<PendingAuthorization> {
    try {
      await this.options.store.setPendingUser(pending.id, user)
    } catch (err) {
      if (err instanceof AlreadyUsedError)
        throw new AuthorizeRequestError(400, 'invalid_request', 'This sign-in was already used; start again.')
      throw err
    }
    return { ...pending, user }
  }

  /**
   * The consent form's answer: CSRF checked (form field = pending request's = cookie), the
   * request used once. Returns the URL to send the browser to: the client's redirect URI with
   * a code, or with `error=access_denied`; `state` and `iss` (RFC 9207) on both.
   */
  async decide(
    pending: PendingAuthorization,
    answer: { csrf: string | undefined; cookieCsrf: string | undefined; allow: boolean },
    issuer: string,
  ): Promise<string> {
    if (
      !answer.csrf ||
      !answer.cookieCsrf ||
      !sameString(answer.csrf, pending.csrf) ||
      !sameString(answer.cookieCsrf, pending.csrf)
    )
      throw new AuthorizeRequestError(403, 'invalid_request', 'The form could not be verified; start again.')
    if (!pending.user) throw new AuthorizeRequestError(400, 'invalid_request', 'Nobody has signed in for this request.')
    try {
      await this.options.store.consumePending(pending.id, new Date(this.now()).toISOString())
    } catch (err) {
      if (err instanceof AlreadyUsedError)
        throw new AuthorizeRequestError(400, 'invalid_request', 'This request was already answered.')
      throw err
    }
    const target = new URL(pending.redirectUri)
    if (!answer.allow) {
      target.searchParams.set('error', 'access_denied')
      target.searchParams.set('error_description', 'The person declined.')
    } else {
      const code = random()
      await this.options.store.putCode({
        codeHash: hashSecret(code),
        clientId: pending.clientId,
        clientName: pending.clientName,
        redirectUri: pending.redirectUri,
        codeChallenge: pending.codeChallenge,
        resource: pending.resource,
        user: pending.user,
        expiresAt: seconds(this.now()) + CODE_TTL_SEC,
      })
      target.searchParams.set('code', code)
    }
    target.searchParams.set('state', pending.state)
    target.searchParams.set('iss', issuer)
    return target.href
  }

  /** The token endpoint (OAuth 2.1 §3.2.3): form parameters in, tokens or an OAuthError out. */
  async token(params: Record<string, string | undefined>, expectedResource: string): Promise<TokenResponse> {
    if (params.resource !== undefined && !sameResource(params.resource, expectedResource))
      throw new OAuthError(400, 'invalid_target', `This server only issues tokens for ${expectedResource}.`)
    if (params.grant_type === 'authorization_code') return this.redeem(params)
    if (params.grant_type === 'refresh_token') return this.refresh(params)
    throw new OAuthError(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token.')
  }

  private async redeem(params: Record<string, string | undefined>): Promise<TokenResponse> {
    const { code, code_verifier: verifier, redirect_uri: redirectUri, client_id: clientId } = params
    if (!code || !verifier || !redirectUri || !clientId)
      throw new OAuthError(400, 'invalid_request', 'code, code_verifier, redirect_uri and client_id are required.')
    if (!VERIFIER_PATTERN.test(verifier))
      throw new OAuthError(400, 'invalid_request', 'code_verifier must be 43 to 128 unreserved characters.')
    const invalid = () => new OAuthError(400, 'invalid_grant', 'The authorization code is invalid, expired or used.')
    if (code.length > 100) throw invalid()
    const codeHash = hashSecret(code)
    const record = await this.options.store.getCode(codeHash)
    if (!record) throw invalid()
    try {
      await this.options.store.redeemCode(codeHash, new Date(this.now()).toISOString())
    } catch (err) {
      if (!(err instanceof AlreadyUsedError)) throw err
      // A replayed code (OAuth 2.1 §4.1.3): the tokens it produced are revoked too.
      const again = await this.options.store.getCode(codeHash)
      if (again?.keyId) await this.options.keys.revoke(again.keyId)
      throw invalid()
    }
    if (record.expiresAt <= seconds(this.now())) throw invalid()
    if (record.clientId !== clientId)
      throw new OAuthError(400, 'invalid_grant', 'The code was issued to another client.')
    if (record.redirectUri !== redirectUri)
      throw new OAuthError(400, 'invalid_grant', 'redirect_uri differs from the authorization request.')
    if (!pkceMatches(verifier, record.codeChallenge))
      throw new OAuthError(400, 'invalid_grant', 'code_verifier does not match the code_challenge.')
    const { key, keyId, secretHash } = mintKey(newKeyId())
    const refresh = random()
    const now = this.now()
    const grant: ApiKeyRecord = {
      id: keyId,
      name: `MCP: ${record.clientName}`.slice(0, 100),
      owner: record.user.sub,
      createdAt: new Date(now).toISOString(),
      expires: null,
      status: 'active',
      models: ['*'],
      secretHash,
      audience: MCP_AUDIENCE,
      secretExpiresAt: new Date(now + this.options.accessTokenTtlSec * 1000).toISOString(),
      oauthClientId: record.clientId,
      refreshHash: hashSecret(refresh),
      refreshExpiresAt: new Date(now + this.options.refreshTokenTtlDays * 86_400_000).toISOString(),
    }
    await this.options.keyStore.create(grant)
    await this.options.store.setCodeGrant(codeHash, keyId)
    return this.tokens(key, keyId, refresh)
  }

  private async refresh(params: Record<string, string | undefined>): Promise<TokenResponse> {
    const { refresh_token: presented, client_id: clientId } = params
    if (!presented || !clientId)
      throw new OAuthError(400, 'invalid_request', 'refresh_token and client_id are required.')
    const invalid = () =>
      new OAuthError(400, 'invalid_grant', 'The refresh token is invalid, expired, used or revoked.')
    const m = REFRESH_PATTERN.exec(presented)
    if (!m) throw invalid()
    const [, keyId, secret] = m
    const hash = hashSecret(secret)
    const record = await this.options.keyStore.get(keyId)
    if (!record?.refreshHash || record.audience !== MCP_AUDIENCE) throw invalid()
    if (record.previousRefreshHash && sameHex(hash, record.previousRefreshHash)) {
      // A rotated-out refresh token presented again: someone else has a copy (OAuth 2.1
      // §4.3.1). The grant ends for both.
      await this.options.keys.revoke(keyId)
      throw invalid()
    }
    if (!sameHex(hash, record.refreshHash) || record.status !== 'active') throw invalid()
    if (record.oauthClientId !== clientId) throw invalid()
    const now = this.now()
    if (record.refreshExpiresAt && Date.parse(record.refreshExpiresAt) <= now) throw invalid()
    if (record.expires !== null && Date.parse(record.expires) <= now) throw invalid()
    const { key, secretHash } = mintKey(keyId)
    const refresh = random()
    try {
      await this.options.keyStore.refreshGrant(keyId, {
        presentedRefreshHash: hash,
        secretHash,
        secretExpiresAt: new Date(now + this.options.accessTokenTtlSec * 1000).toISOString(),
        refreshHash: hashSecret(refresh),
        refreshExpiresAt: new Date(now + this.options.refreshTokenTtlDays * 86_400_000).toISOString(),
        at: new Date(now).toISOString(),
      })
    } catch (err) {
      if (err instanceof KeyConflictError) throw invalid() // a concurrent refresh won, or a revocation
      throw err
    }
    this.options.keys.forget(keyId)
    return this.tokens(key, keyId, refresh)
  }

  private tokens(access: string, keyId: string, refresh: string): TokenResponse {
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: this.options.accessTokenTtlSec,
      refresh_token: `pwr-${keyId}-${refresh}`,
    }
  }
}

/** Control characters (C0 and DEL) in a display name. */
function hasControlCharacters(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (c < 0x20 || c === 0x7f) return true
  }
  return false
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex')
  const y = Buffer.from(b, 'hex')
  return x.length === y.length && timingSafeEqual(x, y)
}

/** RFC 8707 resource comparison: scheme and host case-insensitive, a trailing slash ignored. */
export function sameResource(given: string, expected: string): boolean {
  try {
    const a = new URL(given)
    const b = new URL(expected)
    const path = (u: URL) => u.pathname.replace(/\/+$/, '')
    return a.origin === b.origin && path(a) === path(b) && !a.hash && !a.search
  } catch {
    return false
  }
}
