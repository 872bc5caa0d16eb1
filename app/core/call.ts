/**
 * The neutral chat call: what every front door decodes its wire request into and every provider
 * encodes for its upstream. Block-based, close to both Bedrock Converse and Anthropic Messages
 * (which are nearly the same already), so neither loses information on the way through:
 * thinking signatures, block-level cache points, images inside tool results.
 *
 * Specs it is modelled on:
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Message.html
 * - https://docs.anthropic.com/en/api/messages
 */
import type { CatalogModel } from '../schemas/catalog.js'

/** Prompt-cache checkpoint after a block (Anthropic `cache_control`, Converse `cachePoint`). */
export interface CacheMark {
  /** `5m` / `1h` where the client asked; absent = the provider's default. */
  ttl?: '5m' | '1h'
}

/** Fields every block may carry. */
interface BlockBase {
  /** A cache checkpoint after this block. Providers without prompt caching ignore it. */
  cache?: CacheMark
  /**
   * Where the block came from in the client's request, in the door's own notation (e.g.
   * `messages[2].content[0]`), so checks on the neutral model name the client's field.
   */
  at?: string
}

export interface TextBlock extends BlockBase {
  type: 'text'
  text: string
}
export type ImageMediaType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp'

/**
 * An object in Amazon S3 given by reference (`s3://bucket/key`) instead of inline bytes: large
 * images and documents that would not fit a 6 MB request. Only buckets the operator allow-lists
 * are accepted (services/references.ts); a provider passes the reference on where its upstream
 * reads S3 itself (Bedrock Converse `s3Location`), else the gateway reads the object first.
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_S3Location.html
 */
export interface S3Reference {
  type: 's3'
  /** `s3://bucket/key`, as the client gave it. */
  uri: string
  bucket: string
  key: string
  /** The bucket owner's account id, from the operator's allow-list (cross-account buckets). */
  bucketOwner?: string
}

/**
 * An image: inline bytes, or an S3 reference (`source`, then `data` is empty). The gateway never
 * fetches http(s) URLs.
 */
export interface ImageBlock extends BlockBase {
  type: 'image'
  mediaType: ImageMediaType
  data: Uint8Array
  source?: S3Reference
}
/**
 * A document (PDF, plain text…): inline bytes, or an S3 reference (`source`, then `data` is
 * empty); `name` is what the model sees as its title.
 */
export interface DocumentBlock extends BlockBase {
  type: 'document'
  mediaType: string
  data: Uint8Array
  source?: S3Reference
  name?: string
  /** Text documents given as text (Anthropic `source.type: text`). */
  text?: string
}
export interface ToolUseBlock extends BlockBase {
  type: 'tool_use'
  id: string
  name: string
  input: Record<string, unknown>
}
/** The answer to a tool call: text and images, possibly flagged as an error. */
export interface ToolResultBlock extends BlockBase {
  type: 'tool_result'
  toolUseId: string
  content: Array<TextBlock | ImageBlock | DocumentBlock>
  isError?: boolean
}
/** Model reasoning ("thinking"); the signature must go back unchanged in later turns. */
export interface ReasoningBlock extends BlockBase {
  type: 'reasoning'
  text: string
  signature?: string
}
/** Reasoning the provider encrypted; opaque, sent back as is. */
export interface RedactedReasoningBlock extends BlockBase {
  type: 'redacted_reasoning'
  data: string
}

export type Block =
  | TextBlock
  | ImageBlock
  | DocumentBlock
  | ToolUseBlock
  | ToolResultBlock
  | ReasoningBlock
  | RedactedReasoningBlock

export interface ChatMessage {
  role: 'user' | 'assistant'
  content: Block[]
}

/** A tool the model may call (a function with a JSON Schema for its input). */
export interface ToolSpec {
  name: string
  description?: string
  inputSchema: Record<string, unknown>
  cache?: CacheMark
}

/**
 * Whether and how the model must call tools. `none` keeps the tools in the request (so a
 * history with tool calls stays valid) but no call reaches the client. `disableParallel`: at
 * most one tool call per reply.
 */
export type ToolChoice =
  | { type: 'auto'; disableParallel?: boolean }
  | { type: 'any'; disableParallel?: boolean }
  | { type: 'tool'; name: string; disableParallel?: boolean }
  | { type: 'none' }

/** Structured output: the answer is a JSON value matching `schema` (emulated by providers that lack it). */
export interface JsonOutput {
  /** A name usable as a tool name (`[a-zA-Z0-9_-]{1,64}`). */
  name: string
  description?: string
  schema?: Record<string, unknown>
}

/** Reasoning ("extended thinking"): an exact token budget, or an effort level for models that take one. */
export type ReasoningConfig = { budgetTokens: number } | { effort: 'low' | 'medium' | 'high' }

/** One chat call, as every provider receives it. */
export interface ChatCall {
  model: CatalogModel
  /** System prompt blocks (text, possibly with cache marks). */
  system: TextBlock[]
  /** The conversation; consecutive same-role messages are allowed (providers merge them). */
  messages: ChatMessage[]
  tools?: ToolSpec[]
  toolChoice?: ToolChoice
  /** Upper bound of output tokens, reasoning included (Bedrock `maxTokens`, Anthropic `max_tokens`). */
  maxTokens?: number
  temperature?: number
  topP?: number
  topK?: number
  stop?: string[]
  reasoning?: ReasoningConfig
  output?: JsonOutput
  /** Opaque end-user id (already hashed by the door), for logs; never sent upstream in clear. */
  endUser?: string
}

/** Tool names called in the history, in order of first appearance. */
export function historyToolNames(messages: readonly ChatMessage[]): string[] {
  const names: string[] = []
  for (const m of messages) {
    for (const b of m.content) if (b.type === 'tool_use' && !names.includes(b.name)) names.push(b.name)
  }
  return names
}

/** True when the conversation ends inside a tool loop: tool results answering the last assistant turn. */
export function endsWithToolResults(messages: readonly ChatMessage[]): boolean {
  // Consecutive user messages form one turn.
  for (let i = messages.length - 1; i >= 0 && messages[i].role === 'user'; i--) {
    if (messages[i].content.some((b) => b.type === 'tool_result')) return true
  }
  return false
}

/** The last assistant message, if any. */
export function lastAssistant(messages: readonly ChatMessage[]): ChatMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'assistant') return messages[i]
  return undefined
}
