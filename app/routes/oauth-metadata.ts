/**
 * Discovery for MCP clients' OAuth:
 * - OAuth 2.0 Protected Resource Metadata (RFC 9728) of the MCP endpoint, at the path-specific
 *   URL the 401's `WWW-Authenticate` names (`/.well-known/oauth-protected-resource/v1/mcp`,
 *   RFC 9728 §3.1) and at the root URL clients try when they have no header to go by. It names
 *   the gateway itself as the authorization server when the facade (routes/oauth.ts) can sign
 *   someone in here; otherwise the Cognito user pool, if one is configured, or none (API keys only).
 * - OAuth 2.0 Authorization Server Metadata (RFC 8414) of that facade.
 * https://www.rfc-editor.org/rfc/rfc9728, https://www.rfc-editor.org/rfc/rfc8414 and
 * https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { MCP_PATH, publicBase } from '../plugins/public-url.js'
import { OAUTH_PATHS } from '../services/oauth-contract.js'

export const PROTECTED_RESOURCE_PATHS = [
  '/.well-known/oauth-protected-resource',
  `/.well-known/oauth-protected-resource${MCP_PATH}`,
] as const

export const AUTHORIZATION_SERVER_PATH = '/.well-known/oauth-authorization-server'

export interface OAuthMetadataOptions {
  publicUrl: string | undefined
  /** Issuer URL of the Cognito user pool, when one is configured. */
  issuer: string | undefined
  /** The gateway's own authorization server (routes/oauth.ts) is on. */
  facade: boolean
}

/** RFC 8414 §2 metadata of the facade; its issuer is the gateway's base URL. */
export function authorizationServerMetadata(base: string) {
  return {
    issuer: base,
    authorization_endpoint: `${base}${OAUTH_PATHS.authorize}`,
    token_endpoint: `${base}${OAUTH_PATHS.token}`,
    registration_endpoint: `${base}${OAUTH_PATHS.register}`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
  }
}

export function oauthMetadataRoutes(app: FastifyInstance, opts: OAuthMetadataOptions): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    void reply.header('cache-control', 'public, max-age=3600')
    const base = publicBase(request, opts.publicUrl)
    const servers = opts.facade ? [base] : opts.issuer ? [opts.issuer] : undefined
    return {
      resource: `${base}${MCP_PATH}`,
      ...(servers ? { authorization_servers: servers } : {}),
      bearer_methods_supported: ['header'],
      resource_name: 'pennyworth MCP endpoint',
    }
  }
  for (const path of PROTECTED_RESOURCE_PATHS) app.get(path, handler)
  if (opts.facade)
    app.get(AUTHORIZATION_SERVER_PATH, async (request, reply) => {
      void reply.header('cache-control', 'public, max-age=3600')
      return authorizationServerMetadata(publicBase(request, opts.publicUrl))
    })
}
