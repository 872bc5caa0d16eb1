/**
 * The MCP `chat` tool's codec: its arguments (a prompt or an OpenAI-format conversation plus
 * sampling options) → the neutral call, and neutral answers → the tool's structured output.
 * The conversation format is OpenAI's, so decoding goes through the OpenAI chat door.
 *
 * Specs:
 * - https://modelcontextprotocol.io/specification/2025-11-25/server/tools (structured output)
 * - https://platform.openai.com/docs/api-reference/chat/create (messages)
 */
import type { ChatEvent, ChatResponse, TokenUsage } from '../../core/events.js'
import { badRequest } from '../../errors.js'
import type { ChatCompletionRequest, ChatMessage, FinishReason } from '../../schemas/chat.js'
import { finishReason, toOpenAIUsage } from '../openai-chat/encode.js'

/** The tool's arguments (validated against app/mcp/tools/chat.ts ChatArgs). */
export interface McpChatArgs
  extends Pick<
    ChatCompletionRequest,
    'max_tokens' | 'temperature' | 'top_p' | 'stop' | 'reasoning_effort' | 'response_format'
  > {
  model: string
  prompt?: string
  messages?: ChatMessage[]
  system?: string
}

/** The tool's structured output. */
export interface McpChatOutput {
  model: string
  content: string
  reasoning?: string
  finish_reason: FinishReason
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number }
}

/** The Chat Completions request the arguments stand for. */
export function toChatRequest(args: McpChatArgs): ChatCompletionRequest {
  if ((args.prompt === undefined) === (args.messages === undefined)) {
    throw badRequest(
      'Give exactly one of `prompt` (a single user message) or `messages` (a conversation).',
      args.prompt === undefined ? 'prompt' : 'messages',
      'invalid_value',
    )
  }
  const messages: ChatMessage[] = []
  if (args.system !== undefined) messages.push({ role: 'system', content: args.system })
  if (args.prompt !== undefined) messages.push({ role: 'user', content: args.prompt })
  else messages.push(...args.messages!)
  const { prompt: _p, messages: _m, system: _s, ...options } = args
  return { ...options, messages }
}

const shortUsage = (t: TokenUsage | undefined): McpChatOutput['usage'] => {
  if (!t) return { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }
  const u = toOpenAIUsage(t)
  return { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens }
}

/** A whole answer as the tool's output. */
export function encodeMcpChat(res: ChatResponse, model: string): McpChatOutput {
  const content = res.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('')
  const reasoning = res.content.flatMap((b) => (b.type === 'reasoning' ? [b.text] : [])).join('')
  const toolCalls = res.content.some((b) => b.type === 'tool_use')
  return {
    model: res.model ?? model,
    content,
    ...(reasoning ? { reasoning } : {}),
    finish_reason: finishReason(res.stopReason, toolCalls),
    usage: shortUsage(res.usage),
  }
}

/**
 * Collects a streamed answer into the tool's output, calling `onText` with each piece of text
 * and the characters generated so far (text and reasoning: progress only grows).
 */
export async function collectMcpChat(
  events: AsyncIterable<ChatEvent>,
  model: string,
  onText: (generated: number, piece: string) => Promise<void>,
): Promise<McpChatOutput> {
  let content = ''
  let reasoning = ''
  let finish: FinishReason = 'stop'
  let usage: TokenUsage | undefined
  let toolCalls = false
  for await (const e of events) {
    if (e.type === 'message_start' && e.model) model = e.model
    else if (e.type === 'block_start' && e.block.type === 'tool_use') toolCalls = true
    else if (e.type === 'delta') {
      reasoning += e.reasoning ?? ''
      if (e.text) {
        content += e.text
        await onText(content.length + reasoning.length, e.text)
      }
    } else if (e.type === 'stop') finish = finishReason(e.reason, toolCalls)
    else if (e.type === 'usage') usage = e.usage
  }
  return { model, content, ...(reasoning ? { reasoning } : {}), finish_reason: finish, usage: shortUsage(usage) }
}
