/**
 * OpenAI Chat Completions request → the neutral {@link ChatCall}. Pure: no I/O, no clock, no
 * logger; everything the client did wrong becomes an ApiError (400) naming the offending
 * parameter in OpenAI's notation (`messages[2].content[0]`).
 *
 * Specs:
 * - https://platform.openai.com/docs/api-reference/chat/create
 * - the neutral model: app/core/call.ts
 */
import type {
  Block,
  CacheMark,
  ChatCall,
  ChatMessage as NeutralMessage,
  ImageBlock,
  ImageMediaType,
  TextBlock,
  ToolChoice,
  ToolSpec,
} from '../../core/call.js'
import { endsWithToolResults, lastAssistant } from '../../core/call.js'
import { badRequest, unsupported } from '../../errors.js'
import { isS3Url, s3ImageBlock } from '../../core/s3-reference.js'
import type { CatalogModel } from '../../schemas/catalog.js'
import type { ChatCompletionRequest, ChatMessage, ContentPart } from '../../schemas/chat.js'

/** How each OpenAI request parameter is handled on its way to the neutral call (and Bedrock). */
export type ParamHandling = 'mapped' | 'emulated' | 'ignored' | 'refused-when-set' | 'service'

export interface ParamPolicy {
  handling: ParamHandling
  /** One line for docs/api-and-parameters.md: what happens to the parameter. */
  note: string
}

/**
 * The decision table for every Chat Completions parameter we know, so the docs can be
 * generated from (and checked against) the code. `satisfies Record<keyof …>` makes the compiler
 * fail when a parameter is added to the request schema without a decision here.
 */
export const CHAT_PARAMETER_POLICY = {
  model: { handling: 'mapped', note: 'Catalog name or alias → Bedrock model id / inference profile (`modelId`).' },
  messages: {
    handling: 'mapped',
    note: 'system/developer → `system`; consecutive same-role turns merged; must start with a user turn.',
  },
  stream: { handling: 'service', note: '`true` → ConverseStream.' },
  stream_options: { handling: 'service', note: '`include_usage` → final usage chunk (usage is always metered).' },
  max_tokens: { handling: 'mapped', note: "→ `inferenceConfig.maxTokens` (400 above the model's maximum output)." },
  max_completion_tokens: { handling: 'mapped', note: '→ `inferenceConfig.maxTokens`; wins over `max_tokens`.' },
  temperature: {
    handling: 'mapped',
    note: '→ `inferenceConfig.temperature`; 400 together with reasoning on Claude (thinking forbids it) unless 1.',
  },
  top_p: { handling: 'mapped', note: '→ `inferenceConfig.topP`; 400 together with reasoning on Claude unless 1.' },
  stop: { handling: 'mapped', note: 'String or array → `inferenceConfig.stopSequences` (empty strings dropped).' },
  n: { handling: 'refused-when-set', note: 'Only `n: 1`: Converse returns one choice. `n > 1` → 400.' },
  tools: {
    handling: 'mapped',
    note:
      'Function tools → `toolConfig.tools[].toolSpec` (`parameters` → `inputSchema.json`). ' +
      '400 for models without tool support.',
  },
  tool_choice: {
    handling: 'mapped',
    note:
      'auto → `{auto}`, required → `{any}`, named → `{tool}`, none → no toolConfig (or, ' +
      'when the history holds tool calls, the specs plus a "do not call tools" ' +
      'instruction, and any call the model makes anyway is dropped).',
  },
  parallel_tool_calls: {
    handling: 'emulated',
    note: '`true`/absent: ignored (default). `false`: only the first tool call of a reply is returned.',
  },
  response_format: {
    handling: 'emulated',
    note:
      'json_object / json_schema → a forced tool whose input becomes the message content. ' +
      'Combined with tools: the model must call one of your tools or the JSON tool.',
  },
  reasoning_effort: {
    handling: 'mapped',
    note:
      'Claude: extended thinking with a token budget by effort; gpt-oss: passed through ' +
      '(minimal → low); always-reasoning models: ignored; others: 400.',
  },
  user: { handling: 'ignored', note: 'Harmless; the key id is sent as Bedrock `requestMetadata` instead.' },
  seed: { handling: 'ignored', note: 'Bedrock has no seed; OpenAI only promises best-effort determinism anyway.' },
  logprobs: { handling: 'refused-when-set', note: '`true` → 400: Converse returns no log probabilities.' },
  top_logprobs: { handling: 'refused-when-set', note: '> 0 → 400: Converse returns no log probabilities.' },
  presence_penalty: { handling: 'refused-when-set', note: 'Non-zero → 400: Converse has no penalty parameters.' },
  frequency_penalty: { handling: 'refused-when-set', note: 'Non-zero → 400: Converse has no penalty parameters.' },
  logit_bias: { handling: 'refused-when-set', note: 'Non-empty → 400: Converse has no logit bias.' },
} as const satisfies Record<keyof ChatCompletionRequest, ParamPolicy>

/**
 * Claude extended-thinking budgets (`budget_tokens`) per OpenAI `reasoning_effort`.
 * Anthropic's minimum budget is 1024; "high" stays below the smallest Claude max output (32k).
 */
export const THINKING_BUDGETS = { minimal: 1024, low: 2048, medium: 8192, high: 24576 } as const
export const MIN_THINKING_BUDGET = 1024
/** Room for the visible answer on top of the thinking budget when the client set no max. */
export const THINKING_ANSWER_ROOM = 8192
/** Name of the forced tool used for JSON output when the schema has no usable name. */
export const JSON_TOOL_DEFAULT_NAME = 'json_response'

function jsonToolName(body: ChatCompletionRequest): string | null {
  const rf = body.response_format
  if (!rf || rf.type === 'text') return null
  if (rf.type === 'json_schema') {
    const name = rf.json_schema.name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64)
    return /[a-zA-Z0-9]/.test(name) ? name : JSON_TOOL_DEFAULT_NAME
  }
  return JSON_TOOL_DEFAULT_NAME
}

// ---------------------------------------------------------------------------------------------

const IMAGE_TYPES: Record<string, ImageMediaType> = {
  'image/png': 'image/png',
  'image/jpeg': 'image/jpeg',
  'image/jpg': 'image/jpeg',
  'image/gif': 'image/gif',
  'image/webp': 'image/webp',
}

/** Anthropic/LiteLLM-style `cache_control` read off any object the schema let through. */
function cacheOf(x: unknown): CacheMark | null {
  const cc = (x as { cache_control?: unknown } | null)?.cache_control as { type?: unknown; ttl?: unknown } | undefined
  if (!cc || typeof cc !== 'object' || cc.type !== 'ephemeral') return null
  // Bedrock's cache points know only a TTL of 5m / 1h; anything else gets the default.
  return cc.ttl === '5m' || cc.ttl === '1h' ? { ttl: cc.ttl } : {}
}

const isBlank = (s: string) => s.trim() === ''

interface TextItem {
  text: string
  cache: CacheMark | null
}

/**
 * Text of system/developer/assistant/tool content. Only text parts are allowed there
 * (assistant messages may also carry `refusal` parts, treated as text).
 */
function textItems(content: string | ContentPart[] | null | undefined, path: string, allowRefusal = false): TextItem[] {
  if (content == null) return []
  if (typeof content === 'string') return [{ text: content, cache: null }]
  return content.map((part, j) => {
    const p = part as { type: string; text?: unknown; refusal?: unknown }
    if (p.type === 'text' && typeof p.text === 'string') return { text: p.text, cache: cacheOf(part) }
    if (allowRefusal && p.type === 'refusal' && typeof p.refusal === 'string')
      return { text: p.refusal, cache: cacheOf(part) }
    throw badRequest(
      `Content part type '${p.type}' is not supported in this message; only text is.`,
      `${path}[${j}]`,
      'unsupported_content_part',
    )
  })
}

/**
 * Parses a base64 data URL, or an `s3://bucket/key` reference (core/s3-reference.ts), into an
 * image block. http(s) URLs are refused: the gateway never fetches from the web.
 */
export function imageBlock(url: string, path: string): ImageBlock {
  if (isS3Url(url)) return s3ImageBlock(url, path)
  if (/^https?:\/\//i.test(url)) {
    throw badRequest(
      'Image URLs are not fetched by this gateway. Send the image inline as a base64 data URL ' +
        '(data:image/png;base64,…), or large images as an s3://bucket/key reference to a bucket this gateway allows.',
      path,
      'image_url_not_supported',
    )
  }
  const m = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s.exec(url)
  if (!m)
    throw badRequest('image_url.url must be a base64 data URL (data:image/<type>;base64,…).', path, 'invalid_image_url')
  const mediaType = m[1].trim().toLowerCase()
  const type = IMAGE_TYPES[mediaType]
  if (!type)
    throw badRequest(
      `Image type '${mediaType}' is not supported; use png, jpeg, gif or webp.`,
      path,
      'invalid_image_format',
    )
  if (!/;base64/i.test(m[2]))
    throw badRequest('Image data URLs must be base64-encoded (";base64,").', path, 'invalid_image_url')
  const data = m[3].replace(/\s+/g, '')
  if (data === '' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(data))
    throw badRequest('Image data URL does not hold valid base64 data.', path, 'invalid_image_url')
  const buf = Buffer.from(data, 'base64')
  // A plain Uint8Array (not a Buffer) is what the SDK documents for blob members.
  return { type: 'image', mediaType: type, data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), at: path }
}

const withCache = <B extends Block>(block: B, cache: CacheMark | null): B => (cache ? { ...block, cache } : block)

function userBlocks(content: string | ContentPart[], path: string, model: CatalogModel): Block[] {
  if (typeof content === 'string') return isBlank(content) ? [] : [{ type: 'text', text: content }]
  const out: Block[] = []
  content.forEach((part, j) => {
    const p = part as { type: string; text?: unknown; image_url?: { url?: unknown } }
    const partPath = `${path}[${j}]`
    let block: Block | null
    if (p.type === 'text' && typeof p.text === 'string') {
      block = isBlank(p.text) ? null : { type: 'text', text: p.text }
    } else if (p.type === 'image_url' && typeof p.image_url?.url === 'string') {
      if (model.capabilities.vision !== true) {
        throw badRequest(`Model '${model.id}' does not accept images.`, partPath, 'model_not_vision_capable')
      }
      block = imageBlock(p.image_url.url, partPath)
    } else {
      throw badRequest(
        `Content part type '${p.type}' is not supported by this gateway (text and image_url are).`,
        partPath,
        'unsupported_content_part',
      )
    }
    if (block) out.push(withCache(block, cacheOf(part)))
  })
  return out
}

/** Non-blank text items as blocks (Converse and Anthropic both reject blank text). */
function textBlocksFrom(items: TextItem[]): TextBlock[] {
  return items.filter((x) => !isBlank(x.text)).map((x) => withCache<TextBlock>({ type: 'text', text: x.text }, x.cache))
}

/** A message-level `cache_control` (LiteLLM style) marks the last block, unless it has its own mark. */
function markLast(blocks: Block[], cache: CacheMark | null): void {
  const last = blocks[blocks.length - 1]
  if (cache && last && !last.cache) blocks[blocks.length - 1] = { ...last, cache }
}

export function parseArguments(args: string, path: string): Record<string, unknown> {
  if (args.trim() === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(args)
  } catch {
    throw badRequest('Tool call arguments must be a JSON object string.', path, 'invalid_tool_arguments')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest('Tool call arguments must be a JSON object string.', path, 'invalid_tool_arguments')
  }
  return parsed as Record<string, unknown>
}

interface Translated {
  system: TextBlock[]
  messages: NeutralMessage[]
  /** Tool names seen in the history (assistant tool calls), in order of appearance. */
  historyTools: string[]
}

function translateMessages(msgs: ChatMessage[], model: CatalogModel): Translated {
  const system: TextBlock[] = []
  const messages: NeutralMessage[] = []
  const historyTools: string[] = []
  /** Tool calls of the last assistant message still waiting for their `tool` message. */
  let pending: { index: number; ids: Set<string> } | null = null

  const push = (role: 'user' | 'assistant', blocks: Block[]) => {
    if (blocks.length === 0) return
    const last = messages[messages.length - 1]
    if (last && last.role === role) last.content.push(...blocks)
    else messages.push({ role, content: [...blocks] })
  }
  const closePending = () => {
    if (pending && pending.ids.size > 0) {
      throw badRequest(
        `An assistant message with 'tool_calls' must be followed by tool messages responding ` +
          `to each 'tool_call_id' (missing: ${[...pending.ids].join(', ')}).`,
        `messages[${pending.index}].tool_calls`,
        'missing_tool_result',
      )
    }
    pending = null
  }

  msgs.forEach((msg, i) => {
    const path = `messages[${i}]`
    if (msg.role !== 'tool') closePending()
    switch (msg.role) {
      case 'system':
      case 'developer': {
        const items = textItems(msg.content, `${path}.content`)
        // A message-level cache_control applies to the message's last text item (blank or not).
        const cc = cacheOf(msg)
        const last = items[items.length - 1]
        if (cc && last && !last.cache) last.cache = cc
        system.push(...textBlocksFrom(items))
        return
      }
      case 'user': {
        const blocks = userBlocks(msg.content, `${path}.content`, model)
        if (blocks.length === 0)
          throw badRequest('User messages must have non-blank content.', `${path}.content`, 'empty_content')
        markLast(blocks, cacheOf(msg))
        push('user', blocks)
        return
      }
      case 'assistant': {
        const blocks: Block[] = textBlocksFrom(textItems(msg.content, `${path}.content`, true))
        const ids = new Set<string>()
        ;(msg.tool_calls ?? []).forEach((call, k) => {
          const at = `${path}.tool_calls[${k}]`
          const input = parseArguments(call.function.arguments, `${at}.function.arguments`)
          blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input, at })
          ids.add(call.id)
          if (!historyTools.includes(call.function.name)) historyTools.push(call.function.name)
        })
        markLast(blocks, cacheOf(msg))
        // An assistant message with neither text nor tool calls carries nothing upstream accepts.
        push('assistant', blocks)
        if (ids.size > 0) pending = { index: i, ids }
        return
      }
      case 'tool': {
        if (!pending?.ids.has(msg.tool_call_id)) {
          throw badRequest(
            `Tool message '${msg.tool_call_id}' does not answer a tool call of the preceding assistant message.`,
            `${path}.tool_call_id`,
            'unknown_tool_call_id',
          )
        }
        pending.ids.delete(msg.tool_call_id)
        const items = textItems(msg.content, `${path}.content`)
        const texts = items.filter((x) => !isBlank(x.text))
        const cc = cacheOf(msg) ?? texts.map((x) => x.cache).find(Boolean) ?? null
        push('user', [
          withCache<Block>(
            {
              type: 'tool_result',
              toolUseId: msg.tool_call_id,
              content: texts.map((x) => ({ type: 'text', text: x.text })),
              at: path,
            },
            cc,
          ),
        ])
        return
      }
    }
  })
  closePending()
  return { system, messages, historyTools }
}

// ---------------------------------------------------------------------------------------------

function checkRefusedParams(body: ChatCompletionRequest) {
  if (body.n != null && body.n > 1)
    throw unsupported('n', 'n > 1 is not supported: Bedrock returns a single choice per request.')
  if (body.logprobs === true)
    throw unsupported('logprobs', 'logprobs is not supported: Bedrock does not return token log probabilities.')
  if (body.top_logprobs != null && body.top_logprobs > 0)
    throw unsupported('top_logprobs', 'top_logprobs is not supported: Bedrock does not return token log probabilities.')
  if (body.presence_penalty != null && body.presence_penalty !== 0)
    throw unsupported('presence_penalty', 'presence_penalty is not supported by Bedrock Converse; omit it or send 0.')
  if (body.frequency_penalty != null && body.frequency_penalty !== 0)
    throw unsupported('frequency_penalty', 'frequency_penalty is not supported by Bedrock Converse; omit it or send 0.')
  if (body.logit_bias != null && Object.keys(body.logit_bias).length > 0)
    throw unsupported('logit_bias', 'logit_bias is not supported by Bedrock Converse.')
}

function toolSpecs(body: ChatCompletionRequest): ToolSpec[] {
  return (body.tools ?? []).map((tool) => {
    const fn = tool.function
    const cache = cacheOf(tool)
    return {
      name: fn.name,
      // Converse refuses an empty description; absent is fine.
      ...(fn.description ? { description: fn.description } : {}),
      inputSchema: (fn.parameters ?? { type: 'object', properties: {} }) as Record<string, unknown>,
      ...(cache ? { cache } : {}),
    }
  })
}

/** Checks the tool parameters and returns the neutral choice; `forced` = the model must call a tool. */
function planTools(
  body: ChatCompletionRequest,
  model: CatalogModel,
  historyTools: string[],
  json: string | null,
): { choice?: ToolChoice; forced: boolean } {
  const userTools = body.tools ?? []
  const choice = body.tool_choice ?? 'auto'
  const names = userTools.map((t) => t.function.name)

  if ((userTools.length > 0 || historyTools.length > 0) && model.capabilities.tools !== true) {
    throw badRequest(
      `Model '${model.id}' does not support tool calling.`,
      userTools.length > 0 ? 'tools' : 'messages',
      'tools_not_supported',
    )
  }
  if (typeof choice === 'object' && !names.includes(choice.function.name)) {
    throw badRequest(
      `tool_choice names '${choice.function.name}', which is not among the tools.`,
      'tool_choice',
      'unknown_tool',
    )
  }
  if (choice === 'required' && userTools.length === 0) {
    throw badRequest("tool_choice 'required' needs at least one tool in 'tools'.", 'tool_choice')
  }
  if (json && names.includes(json)) {
    throw badRequest(
      `response_format's schema name '${json}' collides with a tool of the same name; rename one of them.`,
      'response_format',
    )
  }
  const disableParallel = body.parallel_tool_calls === false ? { disableParallel: true } : {}
  if (userTools.length > 0 && choice !== 'none') {
    if (typeof choice === 'object')
      return { choice: { type: 'tool', name: choice.function.name, ...disableParallel }, forced: true }
    if (choice === 'required') return { choice: { type: 'any', ...disableParallel }, forced: true }
    // Tools + JSON output: the model must call one of the client's tools or the JSON tool.
    return { choice: { type: 'auto', ...disableParallel }, forced: json !== null }
  }
  return { choice: choice === 'none' ? { type: 'none' } : undefined, forced: json !== null }
}

// ---------------------------------------------------------------------------------------------

/**
 * Decodes a validated OpenAI Chat Completions request into the neutral chat call for `model`.
 *
 * Spec: https://platform.openai.com/docs/api-reference/chat/create. Decisions for each
 * OpenAI parameter are in {@link CHAT_PARAMETER_POLICY}.
 *
 * @throws ApiError 400 for anything the gateway cannot express faithfully.
 */
export function decodeChatRequest(body: ChatCompletionRequest, model: CatalogModel): ChatCall {
  checkRefusedParams(body)

  const { system, messages, historyTools } = translateMessages(body.messages, model)
  if (messages.length === 0)
    throw badRequest('messages must contain at least one user message.', 'messages', 'missing_user_message')
  if (messages[0].role !== 'user') {
    throw badRequest(
      'The conversation must start with a user message (after any system or developer messages).',
      'messages',
      'invalid_message_order',
    )
  }

  const json = jsonToolName(body)
  const tools = planTools(body, model, historyTools, json)
  const call: ChatCall = { model, system, messages }
  if (body.tools && body.tools.length > 0) call.tools = toolSpecs(body)
  if (tools.choice) call.toolChoice = tools.choice
  if (json) {
    const rf = body.response_format!
    call.output =
      rf.type === 'json_schema'
        ? {
            name: json,
            ...(rf.json_schema.description ? { description: rf.json_schema.description } : {}),
            ...(rf.json_schema.schema ? { schema: rf.json_schema.schema } : {}),
          }
        : { name: json }
  }

  // Inference parameters -----------------------------------------------------------------------
  const requestedMax = body.max_completion_tokens ?? body.max_tokens ?? undefined
  const maxParam = body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens'
  if (requestedMax != null && model.maxOutputTokens && requestedMax > model.maxOutputTokens) {
    throw badRequest(
      `${maxParam} is too large: ${requestedMax}. Model '${model.id}' supports at most ` +
        `${model.maxOutputTokens} output tokens.`,
      maxParam,
      'max_tokens_too_large',
    )
  }
  if (requestedMax != null) call.maxTokens = requestedMax
  if (body.temperature != null) call.temperature = body.temperature
  if (body.top_p != null) call.topP = body.top_p
  const stops = (typeof body.stop === 'string' ? [body.stop] : (body.stop ?? [])).filter((s) => s !== '')
  if (stops.length > 0) call.stop = stops

  // Reasoning --------------------------------------------------------------------------------
  if (body.reasoning_effort) {
    applyReasoningEffort(call, body.reasoning_effort, {
      param: 'reasoning_effort',
      maxParam,
      requestedMax: requestedMax ?? undefined,
      forced: tools.forced,
      temperature: body.temperature ?? undefined,
      topP: body.top_p ?? undefined,
      forcedMessage:
        'reasoning_effort cannot be combined with response_format JSON output or a forced ' +
        "tool_choice ('required' or a named function) on this model: Claude's extended " +
        'thinking only allows tool_choice auto.',
    })
  }
  return call
}

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
 * An OpenAI reasoning effort on the neutral call, shared by the OpenAI doors (Chat Completions
 * `reasoning_effort`, Responses `reasoning.effort`): Claude → extended thinking with a budget by
 * effort (and the output limit raised to make room for it); gpt-oss → the effort passed on;
 * always-reasoning models → nothing to steer; others → 400.
 * https://platform.openai.com/docs/guides/reasoning
 */
export function applyReasoningEffort(call: ChatCall, effort: keyof typeof THINKING_BUDGETS, c: EffortContext): void {
  const model = call.model
  switch (model.capabilities.reasoning) {
    case 'anthropic': {
      if (c.forced) throw unsupported(c.param, c.forcedMessage)
      if (c.temperature != null && c.temperature !== 1) {
        throw unsupported(
          'temperature',
          `temperature cannot be set together with ${c.param} on this model (Claude extended thinking); omit it.`,
        )
      }
      if (c.topP != null && c.topP !== 1) {
        throw unsupported(
          'top_p',
          `top_p cannot be set together with ${c.param} on this model (Claude extended thinking); omit it.`,
        )
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
      return
    }
    case 'effort':
      // gpt-oss knows low/medium/high.
      call.reasoning = { effort: effort === 'minimal' ? 'low' : effort }
      return
    case 'always':
      return // reasons anyway; the effort cannot be steered
    default:
      throw unsupported(c.param, `Model '${model.id}' does not support ${c.param}.`)
  }
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
