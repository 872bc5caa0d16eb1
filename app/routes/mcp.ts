/**
 * /v1/mcp: the MCP Streamable HTTP endpoint, stateless (no Mcp-Session-Id; any instance answers
 * any request). https://modelcontextprotocol.io/specification/2025-11-25/basic/transports
 *
 * - POST: JSON-RPC in; the SDK's transport answers with JSON, or with SSE for `tools/call`.
 *   The reply leaves through `reply.send(stream)` (never `reply.hijack()`), so it streams on
 *   Lambda too (@fastify/aws-lambda with payloadAsStream).
 * - GET / DELETE: 405. A stateless server has no session to stream server-initiated messages
 *   on or to delete, and the spec allows 405 for both.
 * - Authentication is the app's (API keys, default deny); a 401 here carries
 *   `WWW-Authenticate: Bearer resource_metadata=…` for MCP clients' OAuth discovery.
 * - Host/Origin are checked against DNS rebinding (403).
 *
 * Errors made here or by the transport are JSON-RPC error bodies (what MCP clients parse);
 * errors of the shared plumbing (401 from auth, 404) keep the OpenAI shape; a body over the limit
 * (413) is a JSON-RPC error too.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { PassThrough, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { payloadTooLarge } from '../errors.js'
import { originPolicy } from '../mcp/origin.js'
import type { McpDeps, McpTools } from '../mcp/tools/index.js'
import { principalOf, type RouteAuth } from '../plugins/auth.js'
import { MCP_PATH, publicBase, resourceMetadataUrl } from '../plugins/public-url.js'
import { followClient } from '../plugins/client-abort.js'
import { markEndedByDeadline } from '../plugins/deadline.js'
import type { CallContext } from '../providers/types.js'
import type { KeyPrincipal } from '../services/keys.js'
import { MCP_AUDIENCE } from '../services/oauth-contract.js'
import type { SignInKeys } from '../services/sign-in-keys.js'
import { VERSION } from '../version.js'

export interface McpRouteOptions extends McpDeps {
  /** PENNYWORTH_PUBLIC_URL: its host is allowed besides loopback; base of the metadata URL. */
  publicUrl: string | undefined
  bodyLimitBytes: number
  /** People signed in with Cognito run as their sign-in key; undefined = API keys only. */
  signInKeys: SignInKeys | undefined
}

/**
 * API keys (OAuth grants' access tokens among them: their audience is this endpoint), and
 * Cognito access tokens of people in a pennyworth group (plugins/auth.ts).
 */
const AUTH: RouteAuth = { accept: ['api-key', 'user'], audience: MCP_AUDIENCE }
/** Without a user pool: keys only. */
const KEYS_ONLY: RouteAuth = { accept: ['api-key'], audience: MCP_AUDIENCE }

/** The request headers the transport reads; the credentials stay out of the SDK's view. */
const FORWARDED_HEADERS = [
  'accept',
  'content-type',
  'mcp-protocol-version',
  'mcp-session-id',
  'last-event-id',
  'user-agent',
]

/** A JSON-RPC error body without an id, as the SDK's transport writes them. */
export const jsonRpcError = (code: number, message: string) => ({ jsonrpc: '2.0', error: { code, message }, id: null })

export function mcpRoutes(app: FastifyInstance, opts: McpRouteOptions): void {
  const policy = originPolicy(opts.publicUrl)
  // The SDK and the tools (their schemas, ajv validators) are loaded on the first MCP request,
  // not at start (see app/mcp/server.ts): separate chunks of the Lambda bundle. A failed load
  // is not kept; the next request tries again.
  let loaded: Promise<{ tools: McpTools; server: typeof import('../mcp/server.js') }> | undefined
  const mcp = () =>
    (loaded ??= Promise.all([import('../mcp/tools/index.js'), import('../mcp/server.js')]).then(
      ([{ McpTools }, server]) => ({ tools: new McpTools(opts), server }),
      (err: unknown) => {
        loaded = undefined
        throw err
      },
    ))

  // Encapsulated: the raw-body parser and the hooks apply to /v1/mcp only.
  app.register(async (scope) => {
    // The transport validates Content-Type and parses JSON-RPC itself (JSON-RPC errors).
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body))

    // A body over the app's limit is a JSON-RPC error here, with the 413's own advice.
    scope.setErrorHandler((err: Error & { code?: string }, _request, reply) => {
      if (err.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw err // the app's handler
      return reply
        .code(413)
        .type('application/json')
        .send(jsonRpcError(-32600, payloadTooLarge(opts.bodyLimitBytes).message))
    })

    scope.addHook('onSend', async (request, reply, payload) => {
      if (reply.statusCode === 401) {
        const invalid = request.headers.authorization !== undefined || request.headers['x-api-key'] !== undefined
        reply.header(
          'www-authenticate',
          `Bearer resource_metadata="${resourceMetadataUrl(publicBase(request, opts.publicUrl))}"` +
            (invalid ? ', error="invalid_token"' : ''),
        )
      }
      return payload
    })

    // After authentication (app-level hooks run first): a caller with a key still may not
    // come through a foreign Host or Origin.
    scope.addHook('onRequest', async (request, reply) => {
      const origin = request.headers.origin
      const refused = policy.check(request.headers.host, typeof origin === 'string' ? origin : undefined)
      if (refused)
        return reply
          .code(403)
          .type('application/json')
          .send(jsonRpcError(-32000, `Forbidden: ${refused}`))
    })

    scope.post(MCP_PATH, { config: { auth: opts.signInKeys ? AUTH : KEYS_ONLY } }, async (request, reply) => {
      const principal =
        request.principal?.kind === 'user' && opts.signInKeys
          ? await opts.signInKeys.principal(request.principal)
          : principalOf(request)
      const { ctx, controller } = mcpCallContext(request, principal)
      const headers = new Headers()
      for (const name of FORWARDED_HEADERS) {
        const v = request.headers[name]
        if (typeof v === 'string') headers.set(name, v)
      }
      const rawBody = typeof request.body === 'string' ? request.body : undefined
      const webRequest = new Request(`${publicBase(request, opts.publicUrl)}${MCP_PATH}`, {
        method: 'POST',
        headers,
        body: rawBody ?? null,
      })
      const { tools, server } = await mcp()
      const { response, close } = await server.handle(
        tools,
        webRequest,
        rawBody,
        { principal, ctx },
        { version: VERSION, maxBodyBytes: opts.bodyLimitBytes },
      )
      return sendResponse(reply, response, () => {
        controller.abort(new Error('response closed'))
        void close()
      })
    })

    const notAllowed = async (_request: FastifyRequest, reply: FastifyReply) =>
      reply
        .code(405)
        .header('allow', 'POST')
        .type('application/json')
        .send(jsonRpcError(-32000, 'Method not allowed: this MCP endpoint is stateless; use POST.'))
    scope.get(MCP_PATH, { config: { auth: opts.signInKeys ? AUTH : KEYS_ONLY } }, notAllowed)
    scope.delete(MCP_PATH, { config: { auth: opts.signInKeys ? AUTH : KEYS_ONLY } }, notAllowed)
  })
}

/** Abort signal tied to the client connection, and the CallContext of the model calls. */
function mcpCallContext(
  request: FastifyRequest,
  principal: KeyPrincipal,
): { ctx: CallContext; controller: AbortController } {
  const controller = followClient(request)
  // No annotate: an MCP reply's headers are out before a tool runs (and clients ignore them).
  return {
    ctx: {
      signal: controller.signal,
      log: request.log,
      requestId: request.id,
      keyId: principal.keyId,
      deadline: request.deadline,
      onDeadline: (end) => markEndedByDeadline(request, end),
      observe: request.observe,
    },
    controller,
  }
}

/** Copies a Web Response onto the Fastify reply; `done` runs once it is sent or abandoned. */
async function sendResponse(reply: FastifyReply, response: Response, done: () => void): Promise<FastifyReply> {
  reply.code(response.status)
  response.headers.forEach((value, name) => {
    if (name !== 'connection') reply.header(name, value)
  })
  const isSse = (response.headers.get('content-type') ?? '').startsWith('text/event-stream')
  if (!response.body || !isSse) {
    const text = response.body ? await response.text() : undefined
    done()
    return reply.send(text)
  }
  const out = new PassThrough()
  // Fastify writes the head with the first body byte: an SSE comment (ignored by clients) sends
  // the status and headers now, before the model answers, and gives @fastify/aws-lambda a
  // buffered byte when it looks (it swaps a stream with nothing buffered for an empty body).
  out.write(': stream open\n\n')
  out.once('close', done)
  reply.raw.once('close', done)
  pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), out).catch(() => {
    /* client went away */
  })
  return reply.send(out)
}
