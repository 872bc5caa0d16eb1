/**
 * Bedrock Converse response → OpenAI chat completion. Pure.
 *
 * Specs:
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html (response)
 * - https://platform.openai.com/docs/api-reference/chat/object
 */
import type { ConverseCommandOutput, StopReason, TokenUsage as BedrockUsage } from '@aws-sdk/client-bedrock-runtime'
import { ApiError } from '../../errors.js'
import type { AssistantMessage, FinishReason, TokenUsage, Usage } from '../../schemas/chat.js'
import type { ChatRequest, ChatResult } from '../types.js'
import { outputPlan } from './to-converse.js'

/**
 * Converse `stopReason` → OpenAI `finish_reason`.
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_ResponseSyntax
 *
 * `tool_use` (and any other reason) becomes `tool_calls` only when tool calls are actually handed
 * to the client: a JSON-mode answer or a dropped call must not make an agent loop wait for tools.
 * The malformed_* reasons have no OpenAI counterpart; passing them off as `stop` would hand the
 * client a broken answer as if it were complete, so they are a 502.
 *
 * @throws ApiError 502 for `malformed_model_output` / `malformed_tool_use`.
 */
export function mapStopReason(reason: StopReason | string | undefined, hasToolCalls: boolean): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length'
    case 'content_filtered':
    case 'guardrail_intervened':
      return 'content_filter'
    case 'malformed_model_output':
    case 'malformed_tool_use':
      throw new ApiError(502, `The model produced an invalid response (Bedrock stopReason '${reason}'). Retrying may help.`, 'api_error', 'upstream_malformed_output')
    default: // end_turn, stop_sequence, tool_use, unknown
      return hasToolCalls ? 'tool_calls' : 'stop'
  }
}

/**
 * Bedrock usage → OpenAI `usage` plus raw counts for metering.
 *
 * Bedrock's `inputTokens` excludes cache reads and writes; OpenAI's `prompt_tokens` includes
 * cached tokens, so the three are summed and `cached_tokens` reports the reads. Bedrock does not
 * report reasoning tokens separately (they are inside `outputTokens`), so
 * `completion_tokens_details` is omitted rather than invented.
 */
export function toUsage(u: BedrockUsage | undefined): { usage: Usage; tokens: TokenUsage } {
  const tokens: TokenUsage = {
    inputTokens: u?.inputTokens ?? 0,
    outputTokens: u?.outputTokens ?? 0,
    cacheReadTokens: u?.cacheReadInputTokens ?? 0,
    cacheWriteTokens: u?.cacheWriteInputTokens ?? 0,
  }
  const prompt = tokens.inputTokens + tokens.cacheReadTokens + tokens.cacheWriteTokens
  return {
    tokens,
    usage: {
      prompt_tokens: prompt,
      completion_tokens: tokens.outputTokens,
      total_tokens: prompt + tokens.outputTokens,
      prompt_tokens_details: { cached_tokens: tokens.cacheReadTokens },
    },
  }
}

/**
 * Translates a Converse response into an OpenAI chat completion.
 *
 * Spec: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html →
 * https://platform.openai.com/docs/api-reference/chat/object
 *
 * - text blocks → `content` (joined); reasoningContent → `reasoning_content`, never mixed in;
 * - toolUse → `tool_calls` (id = toolUseId, arguments = JSON string, `{}` when empty), limited
 *   by the plan (tool_choice none / parallel_tool_calls false);
 * - JSON mode: the forced tool's input is the content, finish_reason `stop`; prose around it
 *   is dropped so the content stays parseable (kept only if the model never called the tool).
 */
export function fromConverseOutput(out: ConverseCommandOutput, req: ChatRequest): ChatResult {
  const plan = outputPlan(req.body)
  const blocks = out.output?.message?.content ?? []
  const texts: string[] = []
  const reasoning: string[] = []
  const toolCalls: NonNullable<AssistantMessage['tool_calls']> = []
  let json: string | null = null

  for (const block of blocks) {
    if (typeof block.text === 'string') texts.push(block.text)
    else if (block.reasoningContent?.reasoningText?.text) reasoning.push(block.reasoningContent.reasoningText.text)
    else if (block.toolUse) {
      const { toolUseId, name, input } = block.toolUse
      if (plan.jsonTool && name === plan.jsonTool) {
        json = JSON.stringify(input ?? {})
        continue
      }
      if (toolCalls.length >= plan.maxToolCalls) continue
      toolCalls.push({
        id: toolUseId ?? '',
        type: 'function',
        function: { name: name ?? '', arguments: input == null ? '{}' : JSON.stringify(input) },
      })
    }
  }

  const text = texts.join('')
  const message: AssistantMessage = {
    role: 'assistant',
    content: json ?? (text !== '' ? text : toolCalls.length > 0 ? null : ''),
    refusal: null,
  }
  if (reasoning.length > 0) message.reasoning_content = reasoning.join('')
  if (toolCalls.length > 0) message.tool_calls = toolCalls

  const { usage, tokens } = toUsage(out.usage)
  return {
    completion: {
      id: req.completionId,
      object: 'chat.completion',
      created: req.created,
      model: req.model.id,
      system_fingerprint: null,
      choices: [{ index: 0, message, finish_reason: mapStopReason(out.stopReason, toolCalls.length > 0), logprobs: null }],
      usage,
    },
    tokens,
  }
}
