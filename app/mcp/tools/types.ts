/**
 * The shape of one MCP tool: a JSON Schema for its arguments (TypeBox, shared with the OpenAI
 * routes' schemas, validated with ajv before `run`) and a use-case call. Tools know nothing of
 * HTTP or of the MCP SDK; app/mcp/server.ts adapts them to `tools/list` and `tools/call`.
 * https://modelcontextprotocol.io/specification/2025-11-25/server/tools
 */
import type { TSchema } from 'typebox'
import type { CallContext } from '../../providers/types.js'
import type { KeyPrincipal } from '../../services/keys.js'

/** Levels the tools log at (`notifications/message`); a subset of MCP's syslog levels. */
export type ToolLogLevel = 'info' | 'notice' | 'warning' | 'error'

/** What a running tool gets besides its arguments. */
export interface ToolEnv {
  /** The verified caller: every model call is checked against and metered to it. */
  principal: KeyPrincipal
  /** Aborted when the client goes away. */
  ctx: CallContext
  /**
   * Reports progress (`notifications/progress`) when the client asked for it with a
   * progressToken; `undefined` otherwise, so a tool can choose a non-streaming path.
   */
  progress?: (progress: number, message?: string) => Promise<void>
  /** Sends an MCP log message about this call (filtered by the level the client set). */
  log(level: ToolLogLevel, data: unknown): Promise<void>
}

/** A successful tool result: text for every client, structured content for those that read it. */
export interface ToolOutput {
  text: string
  structured?: Record<string, unknown>
}

export interface ToolDefinition<Args = never> {
  name: string
  title: string
  description: string
  /** JSON Schema (an object schema) of the arguments. */
  inputSchema: TSchema
  /** JSON Schema of `structured`, when the tool returns structured content. */
  outputSchema?: TSchema
  annotations: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean }
  /** Runs with validated arguments; throws ApiError for anything the caller should read. */
  run(args: Args, env: ToolEnv): Promise<ToolOutput>
}

/** Serialized JSON for the text block of a structured result (MCP: SHOULD mirror it). */
export const jsonText = (value: unknown): string => JSON.stringify(value, null, 2)
