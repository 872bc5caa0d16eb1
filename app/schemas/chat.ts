/**
 * Chat Completions request and response shapes (one source: JSON Schema for ajv + TS types).
 * Spec: https://platform.openai.com/docs/api-reference/chat/create
 *
 * Request schemas are permissive on purpose: unknown fields are ignored (OpenAI clients send
 * new fields all the time), while the fields we act on are type-checked.
 */
import type { Static } from 'typebox'
import { Type } from '../lib/typebox.js'

const TextPart = Type.Object({ type: Type.Literal('text'), text: Type.String() })
const ImagePart = Type.Object({
  type: Type.Literal('image_url'),
  image_url: Type.Object({ url: Type.String(), detail: Type.Optional(Type.String()) }),
})
/** Any other part type is accepted by the schema and refused with a clear 400 by the translator. */
const OtherPart = Type.Object({ type: Type.String() })
export const ContentPart = Type.Union([TextPart, ImagePart, OtherPart])

const Content = Type.Union([Type.String(), Type.Array(ContentPart)])
const NullableContent = Type.Union([Content, Type.Null()])

export const ToolCall = Type.Object({
  id: Type.String(),
  type: Type.Optional(Type.Literal('function')),
  function: Type.Object({ name: Type.String(), arguments: Type.String() }),
})

const ChatMessageVariants = Type.Union([
  Type.Object({ role: Type.Literal('system'), content: Content, name: Type.Optional(Type.String()) }),
  Type.Object({ role: Type.Literal('developer'), content: Content, name: Type.Optional(Type.String()) }),
  Type.Object({ role: Type.Literal('user'), content: Content, name: Type.Optional(Type.String()) }),
  Type.Object({
    role: Type.Literal('assistant'),
    content: Type.Optional(NullableContent),
    name: Type.Optional(Type.String()),
    tool_calls: Type.Optional(Type.Array(ToolCall)),
    reasoning_content: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    refusal: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  }),
  Type.Object({ role: Type.Literal('tool'), content: Content, tool_call_id: Type.String() }),
])

/**
 * A chat message, validated with ajv's `discriminator` on `role` so a bad message gets an
 * error about its own role's shape instead of "must match a schema in anyOf".
 */
export const ChatMessage = Type.Unsafe<Static<typeof ChatMessageVariants>>({
  type: 'object',
  required: ['role'],
  properties: { role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool'] } },
  discriminator: { propertyName: 'role' },
  oneOf: ChatMessageVariants.anyOf,
})

export const FunctionTool = Type.Object({
  type: Type.Literal('function'),
  function: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  }),
})

export const ToolChoice = Type.Union([
  Type.Literal('none'),
  Type.Literal('auto'),
  Type.Literal('required'),
  Type.Object({ type: Type.Literal('function'), function: Type.Object({ name: Type.String() }) }),
])

export const ResponseFormat = Type.Union([
  Type.Object({ type: Type.Literal('text') }),
  Type.Object({ type: Type.Literal('json_object') }),
  Type.Object({
    type: Type.Literal('json_schema'),
    json_schema: Type.Object({
      name: Type.String(),
      description: Type.Optional(Type.String()),
      schema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    }),
  }),
])

const NullableNumber = (opts: { minimum?: number; maximum?: number } = {}) =>
  Type.Optional(Type.Union([Type.Number(opts), Type.Null()]))
const NullableInteger = (opts: { minimum?: number; maximum?: number } = {}) =>
  Type.Optional(Type.Union([Type.Integer(opts), Type.Null()]))

export const ChatCompletionRequest = Type.Object({
  model: Type.String({ minLength: 1 }),
  messages: Type.Array(ChatMessage, { minItems: 1 }),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  stream_options: Type.Optional(
    Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }), Type.Null()]),
  ),
  max_tokens: NullableInteger({ minimum: 1 }),
  max_completion_tokens: NullableInteger({ minimum: 1 }),
  temperature: NullableNumber({ minimum: 0, maximum: 2 }),
  top_p: NullableNumber({ minimum: 0, maximum: 1 }),
  stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 }), Type.Null()])),
  n: NullableInteger({ minimum: 1 }),
  tools: Type.Optional(Type.Array(FunctionTool)),
  tool_choice: Type.Optional(ToolChoice),
  parallel_tool_calls: Type.Optional(Type.Boolean()),
  response_format: Type.Optional(ResponseFormat),
  reasoning_effort: Type.Optional(
    Type.Union([
      Type.Literal('minimal'),
      Type.Literal('low'),
      Type.Literal('medium'),
      Type.Literal('high'),
      Type.Null(),
    ]),
  ),
  user: Type.Optional(Type.String()),
  seed: NullableInteger(),
  logprobs: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  top_logprobs: NullableInteger({ minimum: 0, maximum: 20 }),
  presence_penalty: NullableNumber({ minimum: -2, maximum: 2 }),
  frequency_penalty: NullableNumber({ minimum: -2, maximum: 2 }),
  logit_bias: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Number()), Type.Null()])),
})

export type ChatCompletionRequest = Static<typeof ChatCompletionRequest>
export type ChatMessage = Static<typeof ChatMessage>
export type ContentPart = Static<typeof ContentPart>
export type ToolCall = Static<typeof ToolCall>

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter'

/** OpenAI `usage`, with the details objects OpenAI clients read. */
export interface Usage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  prompt_tokens_details?: { cached_tokens: number }
  completion_tokens_details?: { reasoning_tokens: number }
}

/** Token counts as the upstream reports them (defined with the neutral model). */
export type { TokenUsage } from '../core/events.js'

export interface AssistantMessage {
  role: 'assistant'
  content: string | null
  refusal: null
  reasoning_content?: string
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>
}

/** https://platform.openai.com/docs/api-reference/chat/object */
export interface ChatCompletion {
  id: string
  object: 'chat.completion'
  created: number
  model: string
  system_fingerprint: null
  choices: Array<{ index: number; message: AssistantMessage; finish_reason: FinishReason; logprobs: null }>
  usage: Usage
}

export interface ChunkDelta {
  role?: 'assistant'
  content?: string | null
  reasoning_content?: string
  tool_calls?: Array<{
    index: number
    id?: string
    type?: 'function'
    function: { name?: string; arguments: string }
  }>
}

/** https://platform.openai.com/docs/api-reference/chat-streaming/streaming */
export interface ChatCompletionChunk {
  id: string
  object: 'chat.completion.chunk'
  created: number
  model: string
  system_fingerprint: null
  choices: Array<{ index: number; delta: ChunkDelta; finish_reason: FinishReason | null; logprobs: null }>
  usage?: Usage | null
}
