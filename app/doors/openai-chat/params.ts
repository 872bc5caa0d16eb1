/**
 * The Chat Completions parameter policy: one row per request parameter, saying what the door does
 * with it. The decoder reads the refusals from here (checkRefusedParams in decode.ts), and the
 * table in docs/api-and-parameters.md is generated from it (`npm run docs:generate`; a test fails
 * when they differ).
 *
 * Spec: https://platform.openai.com/docs/api-reference/chat/create
 * Bedrock side: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 */
import type { ChatCall } from '../../core/call.js'
import type { ChatCompletionRequest } from '../../schemas/chat.js'

/** How a request parameter is handled on its way to the neutral call (and Bedrock). */
export type ParamHandling = 'mapped' | 'emulated' | 'ignored' | 'refused-when-set' | 'service' | 'per-model'

/** When a parameter the gateway cannot honour is refused: only when set to something other than its default. */
export interface Refusal<V> {
  /** True for the values that are refused (null and absent never reach it). */
  when: (value: NonNullable<V>) => boolean
  /** The refused values, for the docs (e.g. "`n > 1`"). */
  condition: string
  /** The 400 `unsupported_parameter` message, `param` being the parameter's name. */
  message: string
}

/** One row of the policy. */
export interface ParamPolicy<V = unknown> {
  handling: ParamHandling
  /** The docs' "support" column: yes, ignored, refused, `1` only… */
  support: string
  /** The docs' "on Bedrock" column: what happens to the parameter. */
  note: string
  /** The neutral call's field the parameter sets (mapped parameters). */
  to?: keyof ChatCall
  /** Refused values (`refused-when-set`): the decoder throws before anything reaches a provider. */
  refuse?: Refusal<V>
}

type Policy = { [K in keyof ChatCompletionRequest]-?: ParamPolicy<ChatCompletionRequest[K]> }

/**
 * Every Chat Completions parameter and its handling, in the order of the docs. `satisfies` makes
 * the compiler fail when the request schema gains a parameter without a row here.
 */
export const CHAT_PARAMETER_POLICY = {
  model: {
    handling: 'mapped',
    support: 'yes',
    note: 'catalog id or alias → Bedrock model id / inference profile (`modelId`)',
    to: 'model',
  },
  messages: {
    handling: 'mapped',
    support: 'yes',
    note:
      '`system`/`developer` (anywhere) → `system`; consecutive same-role turns merged; must start with a ' +
      'user turn (after system messages); models without a system prompt get it at the top of the first ' +
      'user turn. `name` is ignored',
    to: 'messages',
  },
  stream: { handling: 'service', support: 'yes', note: '`true` → ConverseStream' },
  stream_options: {
    handling: 'service',
    support: 'yes',
    note: '`include_usage` → final usage chunk (usage is metered either way)',
  },
  max_tokens: {
    handling: 'mapped',
    support: 'yes',
    note: "→ `inferenceConfig.maxTokens`; above the model's max output → 400",
    to: 'maxTokens',
  },
  max_completion_tokens: {
    handling: 'mapped',
    support: 'yes',
    note: 'same, wins over `max_tokens`',
    to: 'maxTokens',
  },
  temperature: {
    handling: 'mapped',
    support: 'yes',
    note:
      "→ `inferenceConfig.temperature` (Bedrock rejects values outside the model's range: 400); " +
      'with `reasoning_effort` on Claude only `1` is allowed',
    to: 'temperature',
  },
  top_p: {
    handling: 'mapped',
    support: 'yes',
    note: '→ `inferenceConfig.topP`; with `reasoning_effort` on Claude only `1` is allowed',
    to: 'topP',
  },
  stop: {
    handling: 'mapped',
    support: 'yes',
    note: 'string or up to 4 strings → `inferenceConfig.stopSequences` (empty strings dropped)',
    to: 'stop',
  },
  n: {
    handling: 'refused-when-set',
    support: '`1` only',
    note: 'Converse returns one choice',
    refuse: {
      when: (n) => n > 1,
      condition: '`n > 1`',
      message: 'n > 1 is not supported: Bedrock returns a single choice per request.',
    },
  },
  tools: {
    handling: 'mapped',
    support: 'yes',
    note:
      'function tools → `toolConfig.tools[].toolSpec` (`parameters` → `inputSchema.json`; `strict` ' +
      'ignored); 400 on models without tool support',
    to: 'tools',
  },
  tool_choice: {
    handling: 'mapped',
    support: 'yes',
    note:
      '`auto` → `{auto}`, `required` → `{any}`, `{type:"function",function:{name}}` → `{tool:{name}}` ' +
      '(unknown name → 400), `none` → see below',
    to: 'toolChoice',
  },
  parallel_tool_calls: {
    handling: 'emulated',
    support: 'emulated',
    note: 'absent/`true`: default; `false`: only the first tool call of a reply is returned',
    to: 'toolChoice',
  },
  response_format: {
    handling: 'emulated',
    support: 'emulated',
    note: '`text`: no-op; `json_object` / `json_schema` → a forced tool, see JSON output below',
    to: 'output',
  },
  reasoning_effort: {
    handling: 'per-model',
    support: 'per model',
    note:
      'Claude: extended thinking with a budget (below); gpt-oss: passed as `reasoning_effort` ' +
      '(`minimal` → `low`); DeepSeek-R1 (always reasons): ignored; other models → 400',
    to: 'reasoning',
  },
  user: {
    handling: 'ignored',
    support: 'ignored',
    note: 'not forwarded; Bedrock `requestMetadata` carries `{keyId}` (the public key id, never the key)',
  },
  seed: { handling: 'ignored', support: 'ignored', note: 'Bedrock has no seed' },
  logprobs: {
    handling: 'refused-when-set',
    support: 'refused',
    note: '`false`/absent fine',
    refuse: {
      when: (v) => v === true,
      condition: '`true`',
      message: 'logprobs is not supported: Bedrock does not return token log probabilities.',
    },
  },
  top_logprobs: {
    handling: 'refused-when-set',
    support: 'refused',
    note: '`0`/absent fine',
    refuse: {
      when: (v) => v > 0,
      condition: '`> 0`',
      message: 'top_logprobs is not supported: Bedrock does not return token log probabilities.',
    },
  },
  presence_penalty: {
    handling: 'refused-when-set',
    support: 'refused',
    note: '`0`/absent fine',
    refuse: {
      when: (v) => v !== 0,
      condition: 'non-zero',
      message: 'presence_penalty is not supported by Bedrock Converse; omit it or send 0.',
    },
  },
  frequency_penalty: {
    handling: 'refused-when-set',
    support: 'refused',
    note: '`0`/absent fine',
    refuse: {
      when: (v) => v !== 0,
      condition: 'non-zero',
      message: 'frequency_penalty is not supported by Bedrock Converse; omit it or send 0.',
    },
  },
  logit_bias: {
    handling: 'refused-when-set',
    support: 'refused',
    note: '`{}`/absent fine',
    refuse: {
      when: (v) => Object.keys(v).length > 0,
      condition: 'non-empty',
      message: 'logit_bias is not supported by Bedrock Converse.',
    },
  },
} as const satisfies Policy

/** The refusing rows, in table order (the first refused parameter of a request is the one named). */
export const REFUSED_CHAT_PARAMETERS: readonly (readonly [string, Refusal<unknown>])[] = Object.entries(
  CHAT_PARAMETER_POLICY as Policy,
).flatMap(([param, p]) => (p.refuse ? [[param, p.refuse as Refusal<unknown>] as const] : []))
