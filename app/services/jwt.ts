/**
 * Cognito access-token verification for people (the admin API, and MCP when a person signs in).
 * Checks, in this order: signature (RS256, key from the pool's JWKS, fetched once and cached by
 * jose), issuer, expiry (and not-before/issued-at), `token_use: access`, `client_id` = our app
 * client. Groups come from `cognito:groups`.
 * https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
 */
import type { JWTPayload, JWTVerifyGetKey } from 'jose'
import { ApiError, unauthorized } from '../errors.js'

type Jose = typeof import('./jose.js')
let jose: Promise<Jose> | undefined
/** jose, loaded by the first token to verify (API-key requests never need it); a failed load is retried. */
const loadJose = (): Promise<Jose> =>
  (jose ??= import('./jose.js').catch((err: unknown) => {
    jose = undefined
    throw err
  }))

/** The Cognito groups pennyworth knows. Anyone else signed in is in neither and may do nothing. */
export const GROUPS = ['admin', 'user'] as const
export type Group = (typeof GROUPS)[number]

/** Who is calling: a person signed in with Cognito. */
export interface UserPrincipal {
  kind: 'user'
  /** Cognito `sub`: stable, never reused; the owner of the user's API keys. */
  sub: string
  /** Cognito user name (in a pool with e-mail sign-in this is an opaque id, not the e-mail). */
  username: string
  /** `cognito:groups`, as given (may contain groups pennyworth does not use). */
  groups: string[]
}

export const isAdmin = (p: Pick<UserPrincipal, 'groups'>): boolean => p.groups.includes('admin')

export interface CognitoVerifierOptions {
  /** `https://cognito-idp.<region>.amazonaws.com/<poolId>` (or cognito-local's). */
  issuer: string
  /** The app client whose tokens are accepted (the CLI's), or several (the CLI's and the console's). */
  clientId: string | readonly string[]
  /** Defaults to `<issuer>/.well-known/jwks.json`. */
  jwksUrl?: string
  /** A key source instead of the remote JWKS (tests). */
  keys?: JWTVerifyGetKey
  /** Seconds of clock skew tolerated on exp/nbf/iat (default 5). */
  clockToleranceSec?: number
  now?: () => number
}

const INVALID =
  'Missing or invalid access token. Sign in with `pennyworth login` and send the ' +
  'access token as "Authorization: Bearer <token>".'

/**
 * Verifies Cognito access tokens; one instance per app (it owns the JWKS cache). jose is loaded
 * and the remote key set made by the first verify(), not at construction (cold starts).
 */
export class CognitoVerifier {
  private keys: JWTVerifyGetKey | undefined
  private readonly now: () => number

  constructor(private readonly options: CognitoVerifierOptions) {
    this.keys = options.keys
    this.now = options.now ?? Date.now
  }

  /** The principal of a valid access token; ApiError 401 otherwise (503 if the JWKS is unreachable). */
  async verify(token: string): Promise<UserPrincipal> {
    const { createRemoteJWKSet, errors, jwtVerify } = await loadJose()
    this.keys ??= createRemoteJWKSet(new URL(this.options.jwksUrl ?? `${this.options.issuer}/.well-known/jwks.json`), {
      // Cognito rotates keys rarely; an unknown kid refetches at most every 30 s.
      cacheMaxAge: 10 * 60_000,
      cooldownDuration: 30_000,
      timeoutDuration: 5_000,
    })
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'sub'],
        clockTolerance: this.options.clockToleranceSec ?? 5,
        currentDate: new Date(this.now()),
      }))
    } catch (err) {
      if (err instanceof errors.JWTExpired)
        throw unauthorized(
          'The access token has expired; sign in again (the CLI refreshes it by itself).',
          'token_expired',
        )
      if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
        throw new ApiError(
          503,
          'Sign-in tokens cannot be verified right now; try again shortly.',
          'api_error',
          'jwks_unavailable',
          null,
          { cause: err },
        )
      }
      throw unauthorized(INVALID, 'invalid_token')
    }
    if (payload.token_use !== 'access') throw unauthorized('Send the access token, not the ID token.', 'invalid_token')
    const clients = typeof this.options.clientId === 'string' ? [this.options.clientId] : this.options.clientId
    if (typeof payload.client_id !== 'string' || !clients.includes(payload.client_id))
      throw unauthorized(INVALID, 'invalid_token')
    const groups = payload['cognito:groups']
    return {
      kind: 'user',
      sub: payload.sub!,
      username: typeof payload.username === 'string' ? payload.username : payload.sub!,
      groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
    }
  }
}

/** Does the string look like a JWT (three base64url parts)? Cheap routing between key and token. */
export const looksLikeJwt = (s: string): boolean => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(s)
