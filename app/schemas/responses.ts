/**
 * OpenAI Responses request shapes (JSON Schema for ajv + TS types).
 * Spec: https://platform.openai.com/docs/api-reference/responses/create
 *
 * Permissive on purpose, like the other doors' schemas: unknown fields are ignored (Codex and
 * the SDKs send new fields all the time); input items, content parts and tools are checked item
 * by item by the decoder (doors/openai-responses/decode.ts), which names what it refuses. Kept
 * small: this module is loaded at cold start (the route registers it), the door is not.
 */
import type { Static, TSchema } from 'typebox'
import { Type } from '../lib/typebox.js'

const Item = Type.Object({ type: Type.Optional(Type.String()) })
const Nullable = <T extends TSchema>(s: T) => Type.Optional(Type.Union([s, Type.Null()]))

/**
 * Only the fields the route itself reads are checked here; the decoder checks the rest
 * (ranges, shapes) and names the field, so the cold-start schema stays small.
 */
const Checked = Type.Object({
  model: Type.String({ minLength: 1 }),
  input: Type.Optional(Type.Union([Type.String(), Type.Array(Item)])),
  stream: Nullable(Type.Boolean()),
  store: Nullable(Type.Boolean()),
  previous_response_id: Nullable(Type.String({ minLength: 1 })),
})

/** The request as the door reads it (fields beyond {@link Checked} are checked by the decoder). */
export interface ResponsesRequest extends Static<typeof Checked> {
  instructions?: string | null
  max_output_tokens?: number | null
  temperature?: number | null
  top_p?: number | null
  tools?: Array<{ type: string } & Record<string, unknown>>
  tool_choice?: string | ({ type: string } & Record<string, unknown>)
  parallel_tool_calls?: boolean | null
  text?: { format?: { type: string } & Record<string, unknown> }
  reasoning?: { effort?: string | null; summary?: string | null } | null
  metadata?: Record<string, string> | null
  truncation?: string | null
  user?: string
  safety_identifier?: string | null
  include?: string[] | null
  background?: boolean | null
  top_logprobs?: number | null
}
export const ResponsesRequest = Type.Unsafe<ResponsesRequest>(Checked)

/** GET /v1/responses/{id}/input_items query (cursor pagination as OpenAI's lists). */
export const InputItemsQuery = Type.Object({
  after: Type.Optional(Type.String()),
  /** 1–100 (query strings are not coerced: a pattern, parsed by the route). */
  limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
})
export type InputItemsQuery = Static<typeof InputItemsQuery>

export const ResponseIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) })
export type ResponseIdParams = Static<typeof ResponseIdParams>
