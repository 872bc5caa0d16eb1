/**
 * `chat`: one chat completion through the same ChatService as POST /v1/chat/completions (model
 * resolution, key scope, provider, metering against the caller's key). Arguments reuse the
 * Chat Completions request schema's own properties. When the client sends a progressToken the
 * answer is streamed and each piece of text goes out as a progress notification.
 */
import type { Static } from 'typebox'
import { Type } from '../../lib/typebox.js'
import { badRequest } from '../../errors.js'
import { ChatCompletionRequest, type ChatMessage, type FinishReason, type Usage } from '../../schemas/chat.js'
import type { ChatService } from '../../services/chat.js'
import type { ToolDefinition } from './types.js'

const P = ChatCompletionRequest.properties

export const ChatArgs = Type.Object({
  model: Type.String({ minLength: 1, description: 'A model id or alias from `list_models` (kind "chat").' }),
  prompt: Type.Optional(Type.String({ minLength: 1, description: 'The user message. Give either `prompt` or `messages`.' })),
  messages: Type.Optional(Type.Array(P.messages.items, {
    minItems: 1,
    description: 'A whole conversation in OpenAI Chat Completions format, instead of `prompt`.',
  })),
  system: Type.Optional(Type.String({ description: 'A system prompt, put before the conversation.' })),
  max_tokens: P.max_tokens,
  temperature: P.temperature,
  top_p: P.top_p,
  stop: P.stop,
  reasoning_effort: P.reasoning_effort,
  response_format: P.response_format,
})
export type ChatArgs = Static<typeof ChatArgs>

export const ChatOutput = Type.Object({
  model: Type.String(),
  content: Type.String(),
  reasoning: Type.Optional(Type.String()),
  finish_reason: Type.Union([Type.Literal('stop'), Type.Literal('length'), Type.Literal('tool_calls'), Type.Literal('content_filter')]),
  usage: Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer() }),
})
type ChatOutput = Static<typeof ChatOutput>

/** The Chat Completions request the arguments stand for. */
export function toChatRequest(args: ChatArgs): ChatCompletionRequest {
  if ((args.prompt === undefined) === (args.messages === undefined)) {
    throw badRequest('Give exactly one of `prompt` (a single user message) or `messages` (a conversation).', args.prompt === undefined ? 'prompt' : 'messages', 'invalid_value')
  }
  const messages: ChatMessage[] = []
  if (args.system !== undefined) messages.push({ role: 'system', content: args.system })
  if (args.prompt !== undefined) messages.push({ role: 'user', content: args.prompt })
  else messages.push(...args.messages!)
  const { prompt: _p, messages: _m, system: _s, ...options } = args
  return { ...options, messages }
}

const shortUsage = (u: Usage | null | undefined): ChatOutput['usage'] =>
  ({ prompt_tokens: u?.prompt_tokens ?? 0, completion_tokens: u?.completion_tokens ?? 0, total_tokens: u?.total_tokens ?? 0 })

export function chatTool(deps: { chat: ChatService }): ToolDefinition<ChatArgs> {
  return {
    name: 'chat',
    title: 'Chat with a model',
    description: 'Asks a chat model (see `list_models`) and returns its answer. Give `prompt` for a single question or ' +
      '`messages` for a conversation (OpenAI Chat Completions format), optionally a `system` prompt and sampling options. ' +
      'The call is billed to this API key. Send a progressToken to receive the answer as it is generated.',
    inputSchema: ChatArgs,
    outputSchema: ChatOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    async run(args, env) {
      const body = toChatRequest(args)
      let out: ChatOutput
      if (!env.progress) {
        const completion = await deps.chat.complete(body, env.principal, env.ctx)
        const choice = completion.choices[0]
        out = {
          model: completion.model,
          content: choice?.message.content ?? '',
          ...(choice?.message.reasoning_content ? { reasoning: choice.message.reasoning_content } : {}),
          finish_reason: choice?.finish_reason ?? 'stop',
          usage: shortUsage(completion.usage),
        }
      } else {
        const progress = env.progress
        let content = ''
        let reasoning = ''
        let finish: FinishReason = 'stop'
        let usage: Usage | null | undefined
        // Progress counts generated characters; it only grows, as the spec requires.
        await progress(0, `Calling ${body.model}…`)
        for await (const chunk of deps.chat.stream({ ...body, stream: true, stream_options: { include_usage: true } }, env.principal, env.ctx)) {
          if (chunk.usage) usage = chunk.usage
          const choice = chunk.choices[0]
          if (!choice) continue
          const piece = choice.delta.content ?? ''
          content += piece
          reasoning += choice.delta.reasoning_content ?? ''
          if (choice.finish_reason) finish = choice.finish_reason
          if (piece) await progress(content.length + reasoning.length, piece)
        }
        out = {
          model: body.model,
          content,
          ...(reasoning ? { reasoning } : {}),
          finish_reason: finish,
          usage: shortUsage(usage),
        }
      }
      await env.log('info', {
        event: 'metered',
        model: out.model,
        keyId: env.principal.keyId,
        prompt_tokens: out.usage.prompt_tokens,
        completion_tokens: out.usage.completion_tokens,
      })
      return { text: out.content, structured: out }
    },
  }
}

