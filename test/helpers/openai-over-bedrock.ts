/**
 * The OpenAI chat door composed with the Bedrock provider's pure translators, in the shapes the
 * provider had before the neutral core (OpenAI request in, OpenAI completion/chunks out). The
 * translation tests written against that shape run unchanged through door + provider, which is
 * what proves the OpenAI wire behaviour was kept exactly.
 */
import type {
  ConverseCommandOutput,
  ConverseStreamOutput,
  StopReason,
  TokenUsage as BedrockUsage,
} from '@aws-sdk/client-bedrock-runtime'
import type { ChatEvent } from '../../app/core/events.js'
import { decodeChatRequest } from '../../app/doors/openai-chat/decode.js'
import { SseComment } from '../../app/lib/sse.js'
import { encodeChunks, encodeCompletion, finishReason, toOpenAIUsage } from '../../app/doors/openai-chat/encode.js'
import {
  fromBedrockStopReason,
  fromBedrockUsage,
  fromConverseOutput as fromConverseNeutral,
} from '../../app/providers/bedrock/from-converse.js'
import { converseStreamToEvents } from '../../app/providers/bedrock/stream.js'
import {
  outputPlan as neutralPlan,
  toConverseInput as toConverseNeutral,
} from '../../app/providers/bedrock/to-converse.js'
import type { CallContext, ChatProvider, Logger } from '../../app/providers/types.js'
import type { CatalogModel } from '../../app/schemas/catalog.js'
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  FinishReason,
  TokenUsage,
  Usage,
} from '../../app/schemas/chat.js'

export { CHAT_PARAMETER_POLICY, JSON_TOOL_DEFAULT_NAME, THINKING_BUDGETS } from '../../app/doors/openai-chat/decode.js'
export { noToolsInstruction } from '../../app/providers/bedrock/to-converse.js'

/** An OpenAI request plus the catalog entry it resolved to and the completion's id/timestamp. */
export interface ChatRequest {
  body: ChatCompletionRequest
  model: CatalogModel
  completionId: string
  created: number
}

export type ChatStreamEvent = { chunk: ChatCompletionChunk } | { tokens: TokenUsage }

const meta = (req: ChatRequest) => ({ id: req.completionId, created: req.created, model: req.model.id })
const decode = (req: ChatRequest) => decodeChatRequest(req.body, req.model)

export function toConverseInput(req: ChatRequest, opts: { keyId: string }) {
  return toConverseNeutral(decode(req), opts)
}

export function outputPlan(body: ChatCompletionRequest, model?: CatalogModel) {
  const m =
    model ??
    ({
      id: 'x',
      upstreamId: 'x',
      provider: 'bedrock',
      kind: 'chat',
      ownedBy: 'x',
      capabilities: { tools: true },
      pricing: { inputPerMTok: 0, outputPerMTok: 0 },
    } as CatalogModel)
  return neutralPlan(decodeChatRequest(body, m))
}

export function fromConverseOutput(
  out: ConverseCommandOutput,
  req: ChatRequest,
): { completion: ChatCompletion; tokens: TokenUsage } {
  const res = fromConverseNeutral(out, decode(req))
  return { completion: encodeCompletion(res, meta(req)), tokens: res.usage }
}

export function mapStopReason(reason: StopReason | string | undefined, hasToolCalls: boolean): FinishReason {
  return finishReason(fromBedrockStopReason(reason, hasToolCalls), hasToolCalls)
}

export function toUsage(u: BedrockUsage | undefined): { usage: Usage; tokens: TokenUsage } {
  const tokens = fromBedrockUsage(u)
  return { tokens, usage: toOpenAIUsage(tokens) }
}

/** OpenAI chunks, then `{tokens}` once (as the provider yielded before). */
async function* withTokens(events: AsyncIterable<ChatEvent>, req: ChatRequest): AsyncGenerator<ChatStreamEvent> {
  let tokens: TokenUsage | undefined
  async function* tap() {
    for await (const e of events) {
      if (e.type === 'usage') tokens = e.usage
      yield e
    }
  }
  for await (const chunk of encodeChunks(tap(), meta(req), { includeUsage: false }))
    if (!(chunk instanceof SseComment)) yield { chunk }
  if (tokens) yield { tokens }
}

export function converseStreamToChunks(
  events: AsyncIterable<ConverseStreamOutput>,
  req: ChatRequest,
  log?: Logger,
): AsyncGenerator<ChatStreamEvent> {
  return withTokens(converseStreamToEvents(events, decode(req), log), req)
}

/** A provider seen through the OpenAI door: `chat` / `chatStream` over OpenAI requests. */
export function openaiOver(provider: ChatProvider) {
  return {
    async chat(req: ChatRequest, ctx: CallContext) {
      const res = await provider.complete(decode(req), ctx)
      return { completion: encodeCompletion(res, meta(req)), tokens: res.usage }
    },
    chatStream(req: ChatRequest, ctx: CallContext): AsyncGenerator<ChatStreamEvent> {
      const call = decode(req)
      return withTokens(provider.stream(call, ctx), req)
    },
  }
}
