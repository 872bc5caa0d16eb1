/**
 * The facade's own sign-in leg, deployed: the gateway is a public OAuth client of Cognito's
 * managed login (its own app client, PKCE S256), exchanges Cognito's code at the domain's token
 * endpoint and verifies the access token it gets like any Cognito token (services/jwt.ts).
 * https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html and
 * https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html
 */
import { createHash, randomBytes } from 'node:crypto'
import { ApiError } from '../errors.js'
import { GROUPS, type CognitoVerifier } from './jwt.js'
import type { OAuthUser } from '../store/oauth.js'

export interface CognitoLoginOptions {
  /** The managed login domain, `https://<prefix>.auth.<region>.amazoncognito.com` or a custom one. */
  domain: string
  /** The facade's public app client (no secret; authorization code grant; our callback URL). */
  clientId: string
  /** Verifies access tokens of that app client. */
  verifier: Pick<CognitoVerifier, 'verify'>
  fetch?: typeof fetch
}

/** A PKCE verifier and its S256 challenge (RFC 7636). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

export class CognitoLogin {
  private readonly fetch: typeof fetch

  constructor(private readonly options: CognitoLoginOptions) {
    this.fetch = options.fetch ?? fetch
  }

  /** Where to send the browser: the managed login, with our state and PKCE challenge. */
  authorizeUrl(state: string, challenge: string, callbackUrl: string): string {
    const u = new URL('/oauth2/authorize', this.options.domain)
    u.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.options.clientId,
      redirect_uri: callbackUrl,
      scope: 'openid email',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString()
    return u.href
  }

  /**
   * Exchanges Cognito's code for tokens and returns the person, who must be in a pennyworth
   * group. ApiError 401/403 for a refused sign-in, 503 when Cognito cannot be reached.
   */
  async exchange(code: string, verifier: string, callbackUrl: string): Promise<OAuthUser> {
    let res: Response
    try {
      res = await this.fetch(new URL('/oauth2/token', this.options.domain), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: this.options.clientId,
          code,
          redirect_uri: callbackUrl,
          code_verifier: verifier,
        }),
        signal: AbortSignal.timeout(10_000),
      })
    } catch (err) {
      throw new ApiError(
        503,
        'The sign-in service cannot be reached; try again.',
        'api_error',
        'signin_unavailable',
        null,
        {
          cause: err,
        },
      )
    }
    const body = (await res.json().catch(() => ({}))) as { access_token?: unknown }
    if (!res.ok || typeof body.access_token !== 'string')
      throw new ApiError(401, 'The sign-in was refused; start again.', 'authentication_error', 'signin_failed')
    const user = await this.options.verifier.verify(body.access_token)
    if (!user.groups.some((g) => (GROUPS as readonly string[]).includes(g)))
      throw new ApiError(403, 'Your account is in no pennyworth group.', 'permission_error', 'group_required')
    return { sub: user.sub, username: user.username }
  }
}
