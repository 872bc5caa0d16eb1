/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for the MCP endpoint: MCP clients read it to
 * find the authorization server (the Cognito user pool) before they sign a person in.
 * https://www.rfc-editor.org/rfc/rfc9728 and
 * https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 *
 * Served at the path-specific URL the 401's `WWW-Authenticate` names
 * (`/.well-known/oauth-protected-resource/v1/mcp`, RFC 9728 §3.1) and at the root URL clients
 * try when they have no header to go by. Without a configured user pool the document names no
 * authorization server: API keys only.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { MCP_PATH, publicBase } from '../plugins/public-url.js'

export const PROTECTED_RESOURCE_PATHS = [
  '/.well-known/oauth-protected-resource',
  `/.well-known/oauth-protected-resource${MCP_PATH}`,
] as const

export interface OAuthMetadataOptions {
  publicUrl: string | undefined
  /** Issuer URL of the Cognito user pool, when one is configured. */
  issuer: string | undefined
}

export function oauthMetadataRoutes(app: FastifyInstance, opts: OAuthMetadataOptions): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    void reply.header('cache-control', 'public, max-age=3600')
    return {
      resource: `${publicBase(request, opts.publicUrl)}${MCP_PATH}`,
      ...(opts.issuer ? { authorization_servers: [opts.issuer] } : {}),
      bearer_methods_supported: ['header'],
      resource_name: 'pennyworth MCP endpoint',
    }
  }
  for (const path of PROTECTED_RESOURCE_PATHS) app.get(path, handler)
}
