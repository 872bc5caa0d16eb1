/**
 * The MCP tools of the gateway and what `tools/list` and `tools/call` do with them, without the
 * MCP SDK: published schemas, argument validation with ajv (lib/validation.ts: the options and
 * the wording the HTTP routes use, so HTTP and MCP validate and answer alike), and the mapping
 * of errors to tool errors (`isError`) that the model can read. app/mcp/server.ts puts this
 * behind the SDK's server.
 */
import { Ajv, type ValidateFunction } from 'ajv'
import { ApiError, internalError } from '../../errors.js'
import { requestAjv, validationError, type ValidationIssue } from '../../lib/validation.js'
import type { Logger } from '../../providers/types.js'
import type { ModelRegistry } from '../../services/catalog.js'
import type { ChatService } from '../../services/chat.js'
import type { EmbeddingService } from '../../services/embeddings.js'
import type { UsageService } from '../../services/usage.js'
import { chatTool } from './chat.js'
import { embedTool } from './embed.js'
import { listModelsTool } from './list-models.js'
import type { ToolDefinition, ToolEnv } from './types.js'
import { usageTool } from './usage.js'

/** The gateway services the tools use. */
export interface McpDeps {
  registry: ModelRegistry
  chat: ChatService
  embeddings: EmbeddingService
  usage: Pick<UsageService, 'query' | 'budget'>
}

/** A tool as `tools/list` shows it (MCP `Tool`). */
export interface ListedTool {
  name: string
  title: string
  description: string
  inputSchema: { type: 'object'; [key: string]: unknown }
  outputSchema?: { type: 'object'; [key: string]: unknown }
  annotations: Record<string, unknown>
}

/** A `tools/call` result (MCP `CallToolResult`). */
export interface ToolCallResult {
  [key: string]: unknown
  content: Array<{ type: 'text'; text: string }>
  structuredContent?: Record<string, unknown>
  isError?: boolean
}

/** A JSON copy without TypeBox's symbols or OpenAPI's `discriminator` (not JSON Schema; some clients reject it). */
function publishedSchema(schema: object): ListedTool['inputSchema'] {
  return JSON.parse(JSON.stringify(schema, (key, value) => (key === 'discriminator' ? undefined : value)))
}

/** "Invalid arguments" in the words the HTTP routes use (lib/validation.ts). */
export const argumentsError = (errors: readonly ValidationIssue[] | null | undefined): ApiError =>
  validationError(errors, { noun: 'argument', whole: 'arguments' })

/** A tool error result (isError) with the gateway's message and code; anything unexpected is logged, never shown. */
export function toolError(err: unknown, log: Logger): ToolCallResult {
  if (!(err instanceof ApiError)) log.error({ err }, 'mcp tool failed')
  const e = err instanceof ApiError ? err : internalError()
  const code = e.code ? ` [${e.code}${e.param ? `, ${e.param}` : ''}]` : ''
  return { isError: true, content: [{ type: 'text', text: `${e.message}${code}` }] }
}

interface Entry {
  definition: ToolDefinition<unknown>
  validate?: ValidateFunction
}

/** The tools, built once per app; validators compiled on first use (cold starts stay cheap). */
export class McpTools {
  readonly listed: readonly ListedTool[]
  private readonly entries = new Map<string, Entry>()
  private ajv: Ajv | undefined

  constructor(deps: McpDeps) {
    const definitions = [
      listModelsTool(deps),
      chatTool(deps),
      embedTool(deps),
      usageTool(deps),
    ] as unknown as ToolDefinition<unknown>[]
    for (const definition of definitions) this.entries.set(definition.name, { definition })
    this.listed = definitions.map((d) => ({
      name: d.name,
      title: d.title,
      description: d.description,
      inputSchema: publishedSchema(d.inputSchema),
      ...(d.outputSchema ? { outputSchema: publishedSchema(d.outputSchema) } : {}),
      annotations: { title: d.title, ...d.annotations },
    }))
  }

  has(name: string): boolean {
    return this.entries.has(name)
  }

  /** Validates the arguments and runs the tool; every failure is a tool error, never a throw. */
  async call(name: string, args: Record<string, unknown>, env: ToolEnv): Promise<ToolCallResult> {
    const entry = this.entries.get(name)
    if (!entry)
      return toolError(
        new ApiError(400, `Unknown tool '${name}'.`, 'invalid_request_error', 'unknown_tool'),
        env.ctx.log,
      )
    this.ajv ??= requestAjv(Ajv)
    entry.validate ??= this.ajv.compile(entry.definition.inputSchema)
    if (!entry.validate(args)) return toolError(argumentsError(entry.validate.errors), env.ctx.log)
    try {
      const out = await entry.definition.run(args, env)
      return {
        content: [{ type: 'text', text: out.text }],
        ...(out.structured ? { structuredContent: out.structured } : {}),
      }
    } catch (err) {
      return toolError(err, env.ctx.log)
    }
  }
}
