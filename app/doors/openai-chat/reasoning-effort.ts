/**
 * An OpenAI reasoning effort on the neutral call, shared by the OpenAI doors (Chat Completions
 * `reasoning_effort`, Responses `reasoning.effort`), decided per model kind by
 * {@link REASONING_EFFORT_BY_MODEL}.
 *
 * Specs:
 * - https://platform.openai.com/docs/api-reference/chat/create#chat-create-reasoning_effort
 * - https://platform.openai.com/docs/guides/reasoning
 * - https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-extended-thinking.html
 */
import { type ChatCall, endsWithToolResults, lastAssistant } from '../../core/call.js'
import { badRequest, unsupported } from '../../errors.js'
import type { CatalogModel } from '../../schemas/catalog.js'

/**
 * Claude extended-thinking budgets (`budget_tokens`) per OpenAI `reasoning_effort`.
 * Anthropic's minimum budget is 1024; "high" stays below the smallest Claude max output (32k).
 */
export const THINKING_BUDGETS = { minimal: 1024, low: 2048, medium: 8192, high: 24576 } as const
export const MIN_THINKING_BUDGET = 1024
/** Room for the visible answer on top of the thinking budget when the client set no max. */
export const THINKING_ANSWER_ROOM = 8192

type Effort = keyof typeof THINKING_BUDGETS

/** What {@link applyReasoningEffort} needs to know of the request, in the door's own names. */
export interface EffortContext {
  /** The effort parameter's name (`reasoning_effort`, `reasoning.effort`). */
  param: string
  /** The output-limit parameter's name, for errors. */
  maxParam: string
  requestedMax?: number
  /** The model must call a tool (forced tool_choice or JSON output). */
  forced: boolean
  temperature?: number
  topP?: number
  /** The 400 message when reasoning meets a forced tool on Claude. */
  forcedMessage: string
}

/**
 * Sampling parameters Claude's extended thinking fixes at 1: set to anything else together with
 * an effort, they are refused (400 naming them), in this order.
 */
const FIXED_BY_THINKING: readonly { param: string; value: (c: EffortContext) => number | undefined }[] = [
  { param: 'temperature', value: (c) => c.temperature },
  { param: 'top_p', value: (c) => c.topP },
]

/** A model kind of the catalog (`capabilities.reasoning`), `none` for models that do not reason. */
export type ReasoningKind = NonNullable<CatalogModel['capabilities']['reasoning']> | 'none'

type Apply = (call: ChatCall, effort: Effort, c: EffortContext) => void

/**
 * What an effort does per model kind: Claude → extended thinking with a budget by effort (and
 * the output limit raised to make room for it); gpt-oss → the effort passed on; always-reasoning
 * models → nothing to steer; others → 400. `Record<ReasoningKind, …>` makes the compiler fail
 * when the catalog gains a kind without a decision here.
 */
export const REASONING_EFFORT_BY_MODEL: Readonly<Record<ReasoningKind, Apply>> = {
  anthropic: claudeThinking,
  // gpt-oss knows low/medium/high.
  effort: (call, effort) => {
    call.reasoning = { effort: effort === 'minimal' ? 'low' : effort }
  },
  always: () => {}, // reasons anyway; the effort cannot be steered
  none: (call, _effort, c) => {
    throw unsupported(c.param, `Model '${call.model.id}' does not support ${c.param}.`)
  },
}

/** Applies `effort` to `call` as {@link REASONING_EFFORT_BY_MODEL} decides for the call's model. */
export function applyReasoningEffort(call: ChatCall, effort: Effort, c: EffortContext): void {
  const kind = call.model.capabilities.reasoning ?? 'none'
  const apply = Object.hasOwn(REASONING_EFFORT_BY_MODEL, kind) ? REASONING_EFFORT_BY_MODEL[kind] : undefined
  ;(apply ?? REASONING_EFFORT_BY_MODEL.none)(call, effort, c)
}

function claudeThinking(call: ChatCall, effort: Effort, c: EffortContext): void {
  const model = call.model
  if (c.forced) throw unsupported(c.param, c.forcedMessage)
  for (const { param, value } of FIXED_BY_THINKING) {
    const v = value(c)
    if (v != null && v !== 1) {
      throw unsupported(
        param,
        `${param} cannot be set together with ${c.param} on this model (Claude extended thinking); omit it.`,
      )
    }
  }
  // Mid tool loop, Anthropic demands the signed thinking block of the last assistant turn,
  // which OpenAI clients cannot send back: answer this step without thinking instead.
  if (endsWithToolResults(call.messages) && !lastAssistantHasSignedReasoning(call)) return
  delete call.temperature
  delete call.topP
  const cap = model.maxOutputTokens ?? Infinity
  let budget = Math.min(THINKING_BUDGETS[effort], cap - 1)
  let maxTokens: number
  if (c.requestedMax == null) maxTokens = Math.min(cap, budget + THINKING_ANSWER_ROOM)
  else if (c.requestedMax > budget) maxTokens = c.requestedMax
  // Bedrock needs maxTokens > budget_tokens: the client's limit then bounds the answer.
  else maxTokens = Math.min(cap, budget + c.requestedMax)
  if (maxTokens <= budget) budget = maxTokens - 1
  if (budget < MIN_THINKING_BUDGET) {
    throw badRequest(
      `Model '${model.id}' cannot think within ${maxTokens} output tokens (thinking needs ` +
        `at least ${MIN_THINKING_BUDGET}).`,
      c.maxParam,
    )
  }
  call.maxTokens = maxTokens
  call.reasoning = { budgetTokens: budget }
}

/** The last assistant turn starts with a signed reasoning block (a client that sent it back). */
function lastAssistantHasSignedReasoning(call: ChatCall): boolean {
  const last = lastAssistant(call.messages)
  const first = last?.content[0]
  return (
    first !== undefined &&
    ((first.type === 'reasoning' && first.signature !== undefined) || first.type === 'redacted_reasoning')
  )
}
