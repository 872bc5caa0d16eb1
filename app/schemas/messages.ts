/**
 * Anthropic Messages request shapes (JSON Schema for ajv + TS types).
 * Spec: https://docs.anthropic.com/en/api/messages, /en/api/messages-count-tokens
 *
 * Permissive on purpose, like the Chat Completions schema: unknown fields are ignored (clients
 * such as Claude Code send new fields all the time); content blocks and tools are checked block
 * by block by the decoder (doors/anthropic/decode.ts), which names what it refuses.
 */
import type { Static } from 'typebox'
import { Type } from '../lib/typebox.js'

const Block = Type.Object({ type: Type.String() })
const Content = Type.Union([Type.String(), Type.Array(Block)])

export const AnthropicMessage = Type.Object({
  /** `system`: a system message inside the conversation (sent by Claude Code 2.1+). */
  role: Type.Union([Type.Literal('user'), Type.Literal('assistant'), Type.Literal('system')]),
  content: Content,
})

const MessagesFields = {
  model: Type.String({ minLength: 1 }),
  messages: Type.Array(AnthropicMessage, { minItems: 1 }),
  system: Type.Optional(Type.Union([Type.String(), Type.Array(Block)])),
  tools: Type.Optional(
    Type.Array(Type.Object({ name: Type.Optional(Type.String()), type: Type.Optional(Type.String()) })),
  ),
  tool_choice: Type.Optional(
    Type.Object({
      type: Type.Union([Type.Literal('auto'), Type.Literal('any'), Type.Literal('tool'), Type.Literal('none')]),
      name: Type.Optional(Type.String()),
      disable_parallel_tool_use: Type.Optional(Type.Boolean()),
    }),
  ),
  thinking: Type.Optional(
    Type.Object({
      type: Type.Union([
        Type.Literal('enabled'),
        Type.Literal('disabled'),
        Type.Literal('adaptive'),
        Type.Literal('between_tools'),
      ]),
      budget_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
  ),
  /** Automatic prompt caching: a cache point after the last block of the conversation. */
  cache_control: Type.Optional(Type.Union([Type.Object({ type: Type.String() }), Type.Null()])),
  /** `format` (JSON output) is honoured; `effort` is ignored. */
  output_config: Type.Optional(
    Type.Object({
      format: Type.Optional(
        Type.Union([
          Type.Object({ type: Type.Literal('json_schema'), schema: Type.Record(Type.String(), Type.Unknown()) }),
          Type.Null(),
        ]),
      ),
    }),
  ),
}

export const MessagesRequest = Type.Object({
  ...MessagesFields,
  max_tokens: Type.Integer({ minimum: 1 }),
  stream: Type.Optional(Type.Boolean()),
  stop_sequences: Type.Optional(Type.Array(Type.String())),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  top_k: Type.Optional(Type.Integer({ minimum: 0 })),
  metadata: Type.Optional(Type.Object({ user_id: Type.Optional(Type.Union([Type.String(), Type.Null()])) })),
})

export const CountTokensRequest = Type.Object(MessagesFields)

export type MessagesRequest = Static<typeof MessagesRequest>
export type CountTokensRequest = Static<typeof CountTokensRequest>
export type AnthropicMessage = Static<typeof AnthropicMessage>
