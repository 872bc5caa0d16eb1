/**
 * Where clients reach this gateway: the public base URL and the MCP endpoint's path, shared by
 * the MCP route (its 401's `WWW-Authenticate`) and the OAuth protected-resource metadata.
 */
import type { FastifyRequest } from 'fastify'

/** The MCP endpoint (Streamable HTTP). */
export const MCP_PATH = '/v1/mcp'

/** The base URL clients reach this gateway at (configured, or the request's own host locally). */
export function publicBase(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${request.protocol}://${request.host}`
}

/** RFC 9728 §3.1: the metadata URL of the protected resource `<base>/v1/mcp`. */
export const resourceMetadataUrl = (base: string) => `${base}/.well-known/oauth-protected-resource${MCP_PATH}`
