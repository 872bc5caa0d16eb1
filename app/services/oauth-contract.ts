/**
 * What the OAuth facade's routes, its metadata and the auth plugin need from it at start: the
 * endpoints' paths, the access tokens' audience and the error types. Kept apart from
 * services/oauth.ts so the service and its store load on the first OAuth request, not at a
 * Lambda cold start (app.ts imports them on demand).
 */

/** Where the facade's endpoints are (routes/oauth.ts), named in its metadata. */
export const OAUTH_PATHS = {
  register: '/oauth/register',
  authorize: '/oauth/authorize',
  callback: '/oauth/callback',
  token: '/oauth/token',
} as const

/** The audience of grants' access tokens: the MCP endpoint (plugins/auth.ts RouteAuth.audience). */
export const MCP_AUDIENCE = 'mcp'

/** An OAuth error (RFC 6749 §5.2, RFC 7591 §3.2.2): `error` code, description, HTTP status. */
export class OAuthError extends Error {
  override name = 'OAuthError'
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
  ) {
    super(description)
  }
}

/** An authorization request that cannot be answered by redirecting (unknown client, bad redirect_uri). */
export class AuthorizeRequestError extends OAuthError {
  override name = 'AuthorizeRequestError'
}
