/**
 * Bedrock Converse response → the neutral answer. Pure.
 *
 * Specs:
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html (response)
 * - the neutral model: app/core/events.ts
 */
import type {
  ConverseCommandOutput,
  StopReason as BedrockStopReason,
  TokenUsage as BedrockUsage,
} from '@aws-sdk/client-bedrock-runtime'
import type { Block, ChatCall } from '../../core/call.js'
import type { ChatResponse, StopReason, TokenUsage } from '../../core/events.js'
import { ApiError } from '../../errors.js'
import { outputPlan } from './to-converse.js'

/**
 * Converse `stopReason` → the neutral stop reason.
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_ResponseSyntax
 *
 * `tool_use` stays `tool_use` only when tool calls are actually handed to the client: a JSON
 * answer or a dropped call must not make an agent loop wait for tools. The malformed_* reasons
 * would hand the client a broken answer as if it were complete, so they are a 502.
 *
 * @throws ApiError 502 for `malformed_model_output` / `malformed_tool_use`.
 */
export function fromBedrockStopReason(
  reason: BedrockStopReason | string | undefined,
  hasToolCalls: boolean,
): StopReason {
  switch (reason) {
    case 'max_tokens':
    case 'stop_sequence':
    case 'content_filtered':
    case 'guardrail_intervened':
      return reason
    case 'model_context_window_exceeded':
      return 'context_window_exceeded'
    case 'malformed_model_output':
    case 'malformed_tool_use':
      throw new ApiError(
        502,
        `The model produced an invalid response (Bedrock stopReason '${reason}'). Retrying may help.`,
        'api_error',
        'upstream_malformed_output',
      )
    default: // end_turn, tool_use, unknown
      return hasToolCalls ? 'tool_use' : 'end_turn'
  }
}

/**
 * Bedrock usage → neutral token counts. Bedrock's `inputTokens` excludes cache reads and
 * writes, as the neutral `inputTokens` does. Bedrock does not report reasoning tokens apart
 * (they are inside `outputTokens`), so none are invented.
 */
export function fromBedrockUsage(u: BedrockUsage | undefined): TokenUsage {
  return {
    inputTokens: u?.inputTokens ?? 0,
    outputTokens: u?.outputTokens ?? 0,
    cacheReadTokens: u?.cacheReadInputTokens ?? 0,
    cacheWriteTokens: u?.cacheWriteInputTokens ?? 0,
  }
}

/** Bedrock's redactedContent bytes as the base64 text clients carry (and send back). */
export const redactedData = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

/**
 * Translates a Converse response into the neutral answer.
 *
 * Spec: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 *
 * - text → text blocks; reasoningContent → reasoning (with signature) or redacted_reasoning;
 * - toolUse → tool_use, limited by the plan (tool_choice none / parallel calls disabled);
 * - JSON output: the forced tool's input becomes a text block in its place, and prose around
 *   it is dropped so the answer stays parseable (kept only if the model never called the tool).
 */
export function fromConverseOutput(out: ConverseCommandOutput, call: ChatCall): ChatResponse {
  const plan = outputPlan(call)
  const blocks = out.output?.message?.content ?? []
  const content: Block[] = []
  let toolCalls = 0
  const jsonCalled = plan.jsonTool !== null && blocks.some((b) => b.toolUse?.name === plan.jsonTool)

  for (const block of blocks) {
    if (typeof block.text === 'string') {
      if (!jsonCalled) content.push({ type: 'text', text: block.text })
    } else if (block.reasoningContent) {
      const r = block.reasoningContent
      if (r.reasoningText?.text) {
        content.push({
          type: 'reasoning',
          text: r.reasoningText.text,
          ...(r.reasoningText.signature ? { signature: r.reasoningText.signature } : {}),
        })
      } else if (r.redactedContent) content.push({ type: 'redacted_reasoning', data: redactedData(r.redactedContent) })
    } else if (block.toolUse) {
      const { toolUseId, name, input } = block.toolUse
      if (plan.jsonTool && name === plan.jsonTool) {
        content.push({ type: 'text', text: JSON.stringify(input ?? {}) })
        continue
      }
      if (toolCalls >= plan.maxToolCalls) continue
      toolCalls++
      content.push({
        type: 'tool_use',
        id: toolUseId ?? '',
        name: name ?? '',
        input: (input ?? {}) as Record<string, unknown>,
      })
    }
  }
  return {
    content,
    stopReason: fromBedrockStopReason(out.stopReason, toolCalls > 0),
    usage: fromBedrockUsage(out.usage),
  }
}
