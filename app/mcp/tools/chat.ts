/**
 * `chat`: one chat completion through the same ChatService as POST /v1/chat/completions (model
 * resolution, key scope, provider, metering against the caller's key). Arguments reuse the
 * Chat Completions request schema's own properties. When the client sends a progressToken the
 * answer is streamed and each piece of text goes out as a progress notification.
 */
import type { Static } from 'typebox'
import { Type } from '../../lib/typebox.js'
import { collectMcpChat, encodeMcpChat, toChatRequest } from '../../doors/mcp-chat/codec.js'
import { decodeChatRequest } from '../../doors/openai-chat/decode.js'
import { ChatCompletionRequest } from '../../schemas/chat.js'
import type { ChatService } from '../../services/chat.js'
import type { ToolDefinition } from './types.js'

const P = ChatCompletionRequest.properties

export const ChatArgs = Type.Object({
  model: Type.String({ minLength: 1, description: 'A model id or alias from `list_models` (kind "chat").' }),
  prompt: Type.Optional(
    Type.String({ minLength: 1, description: 'The user message. Give either `prompt` or `messages`.' }),
  ),
  messages: Type.Optional(
    Type.Array(P.messages.items, {
      minItems: 1,
      description: 'A whole conversation in OpenAI Chat Completions format, instead of `prompt`.',
    }),
  ),
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
  finish_reason: Type.Union([
    Type.Literal('stop'),
    Type.Literal('length'),
    Type.Literal('tool_calls'),
    Type.Literal('content_filter'),
  ]),
  usage: Type.Object({
    prompt_tokens: Type.Integer(),
    completion_tokens: Type.Integer(),
    total_tokens: Type.Integer(),
  }),
})
type ChatOutput = Static<typeof ChatOutput>

export function chatTool(deps: { chat: ChatService }): ToolDefinition<ChatArgs> {
  return {
    name: 'chat',
    title: 'Chat with a model',
    description:
      'Asks a chat model (see `list_models`) and returns its answer. Give `prompt` for a single question or ' +
      '`messages` for a conversation (OpenAI Chat Completions format), optionally a ' +
      '`system` prompt and sampling options. ' +
      'The call is billed to this API key. Send a progressToken to receive the answer as it is generated.',
    inputSchema: ChatArgs,
    outputSchema: ChatOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    async run(args, env) {
      const body = toChatRequest(args)
      const model = deps.chat.resolve(args.model, env.principal)
      const call = decodeChatRequest(body, model)
      let out: ChatOutput
      if (!env.progress) {
        out = encodeMcpChat(await deps.chat.complete(call, env.principal, env.ctx), model.id)
      } else {
        const progress = env.progress
        // Progress counts generated characters; it only grows, as the spec requires.
        await progress(0, `Calling ${args.model}…`)
        out = await collectMcpChat(deps.chat.stream(call, env.principal, env.ctx), args.model, (n, piece) =>
          progress(n, piece),
        )
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
