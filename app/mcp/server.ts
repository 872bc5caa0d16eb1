/**
 * The MCP server behind /v1/mcp, on the official SDK: one `Server` and one stateless Streamable
 * HTTP transport (the Web Standard one: Request in, Response out) per HTTP request, so any
 * instance can answer any request (Lambda). The tools are app/mcp/tools.
 *
 * Spec: https://modelcontextprotocol.io/specification/2025-11-25 (transport:
 * basic/transports#streamable-http; tools: server/tools; logging: server/utilities/logging;
 * progress: basic/utilities/progress). Earlier revisions negotiate through `initialize`.
 *
 * The low-level `Server` is used rather than `McpServer` because `McpServer.registerTool` takes
 * zod schemas, while the tools' arguments are the JSON Schemas (TypeBox) the OpenAI routes use.
 *
 * Only app/routes/mcp.ts loads this module, with a dynamic import on the first MCP request: the
 * SDK (and zod) cost ~100 ms to load, which a cold start serving OpenAI routes should not pay.
 * Keep its imports to the SDK and types, so the lazily loaded part of the Lambda bundle stays
 * the SDK alone.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  SetLevelRequestSchema,
  type CallToolResult,
  type LoggingLevel,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js'
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js'
import { checkJsonLimits, DEFAULT_JSON_LIMITS } from '../lib/json-limits.js'
import { describeJsonLimitViolation } from '../lib/json-limits-report.js'
import type { CallContext } from '../providers/types.js'
import type { KeyPrincipal } from '../services/keys.js'
import type { McpTools } from './tools/index.js'
import type { ToolEnv, ToolLogLevel } from './tools/types.js'

/** Who is calling, for one HTTP request. */
export interface McpCall {
  principal: KeyPrincipal
  ctx: CallContext
}

export interface ServerIdentity {
  version: string
}

const INSTRUCTIONS =
  'pennyworth serves models on Amazon Bedrock. Call `list_models` to see the models this key may use, ' +
  '`chat` to ask a chat model, `embed` to get embedding vectors and `usage` for what this key has used and spent. ' +
  'Every model call is billed to the API key (or sign-in) this connection uses.'

/** Log severities in MCP's (syslog's) order. */
const LEVELS: readonly LoggingLevel[] = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
]

/** One validator for every server (the SDK would build an ajv instance per server, i.e. per request). */
const jsonSchemaValidator = new AjvJsonSchemaValidator()

/** A JSON-RPC error for the SDK to send: it takes `code` and `message` from what a handler throws. */
const protocolError = (code: number, message: string): Error => Object.assign(new Error(message), { code })

/** A fresh server for one HTTP request of one caller. */
export function createServer(tools: McpTools, call: McpCall, identity: ServerIdentity): Server {
  const server = new Server(
    { name: 'pennyworth', title: 'pennyworth gateway', version: identity.version },
    {
      capabilities: { tools: { listChanged: false }, logging: {} },
      instructions: INSTRUCTIONS,
      jsonSchemaValidator,
    },
  )

  // Stateless: a level set here lasts for this HTTP request only (nothing is kept between
  // requests, which may reach other instances). Unset = every level, as the SDK does.
  let minLevel: LoggingLevel | undefined
  server.removeRequestHandler('logging/setLevel')
  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    minLevel = request.params.level
    return {}
  })

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: tools.listed as Tool[] }))

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name } = request.params
    // Unknown tools are protocol errors (spec). Not McpError: its message carries an
    // "MCP error -32602:" prefix that clients add again.
    if (!tools.has(name))
      throw protocolError(
        ErrorCode.InvalidParams,
        `Unknown tool: '${name}'. Call tools/list for the tools this server has.`,
      )
    const token = request.params._meta?.progressToken
    const env: ToolEnv = {
      principal: call.principal,
      ctx: { ...call.ctx, signal: AbortSignal.any([call.ctx.signal, extra.signal]) },
      progress:
        token === undefined
          ? undefined
          : (progress, message) =>
              extra.sendNotification({
                method: 'notifications/progress',
                params: { progressToken: token, progress, ...(message !== undefined ? { message } : {}) },
              }),
      log: async (level: ToolLogLevel, data: unknown) => {
        if (minLevel && LEVELS.indexOf(level) < LEVELS.indexOf(minLevel)) return
        await extra.sendNotification({ method: 'notifications/message', params: { level, logger: 'pennyworth', data } })
      },
    }
    return tools.call(name, request.params.arguments ?? {}, env)
  })
  return server
}

/**
 * Answers one POST through a fresh server and stateless transport. `rawBody` is the body as
 * received; it is parsed here once to choose the reply's form: SSE for `tools/call` (progress
 * and log notifications flow while the tool runs, and SSE keep-alives hold idle proxies open),
 * JSON otherwise. Call `close` once the response has been sent or abandoned.
 */
export async function handle(
  tools: McpTools,
  request: Request,
  rawBody: string | undefined,
  call: McpCall,
  options: ServerIdentity & { maxBodyBytes: number },
): Promise<{ response: Response; close: () => Promise<void> }> {
  let parsed: unknown
  try {
    parsed = rawBody === undefined ? undefined : JSON.parse(rawBody)
  } catch {
    parsed = undefined // the transport reads the body itself and answers the parse error
  }
  // The limits every JSON front door applies (plugins/json-body.ts), as a JSON-RPC error:
  // the SDK and the tools would otherwise recurse through an arbitrarily deep body.
  const crossed = checkJsonLimits(parsed)
  if (crossed) {
    const violation = describeJsonLimitViolation(parsed, crossed, DEFAULT_JSON_LIMITS)
    const id =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as { id?: unknown }).id
        : undefined
    const body = {
      jsonrpc: '2.0',
      error: { code: ErrorCode.InvalidRequest, message: violation.message, data: { param: violation.param } },
      id: typeof id === 'string' || typeof id === 'number' ? id : null,
    }
    return { response: Response.json(body, { status: 400 }), close: async () => {} }
  }
  const messages = Array.isArray(parsed) ? parsed : [parsed]
  const streams = messages.some(
    (m) => typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'tools/call',
  )
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: !streams,
    maxRequestBodySize: options.maxBodyBytes,
  })
  transport.onerror = (err) => call.ctx.log.debug({ err: err.message }, 'mcp transport')
  const server = createServer(tools, call, options)
  await server.connect(transport)
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await server.close()
  }
  try {
    const response = await transport.handleRequest(request, parsed === undefined ? undefined : { parsedBody: parsed })
    return { response, close }
  } catch (err) {
    await close()
    throw err
  }
}
