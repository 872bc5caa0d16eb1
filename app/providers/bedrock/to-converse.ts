/**
 * OpenAI Chat Completions request → Bedrock Converse request. Pure: no I/O, no clock, no logger;
 * everything the client did wrong becomes an ApiError (400) naming the offending parameter.
 *
 * Specs:
 * - https://platform.openai.com/docs/api-reference/chat/create
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 */
import type {
  CachePointBlock,
  ContentBlock,
  ConverseCommandInput,
  ImageFormat,
  InferenceConfiguration,
  Message,
  SystemContentBlock,
  Tool,
  ToolChoice as ConverseToolChoice,
  ToolResultContentBlock,
  ToolUseBlock,
} from '@aws-sdk/client-bedrock-runtime'
import { badRequest, unsupported } from '../../errors.js'
import type { CatalogModel } from '../../schemas/catalog.js'
import type { ChatCompletionRequest, ChatMessage, ContentPart } from '../../schemas/chat.js'
import type { ChatRequest } from '../types.js'

type Document = NonNullable<ToolUseBlock['input']>

/** How each OpenAI request parameter is handled by the Bedrock provider. */
export type ParamHandling = 'mapped' | 'emulated' | 'ignored' | 'refused-when-set' | 'service'

export interface ParamPolicy {
  handling: ParamHandling
  /** One line for the README: what happens to the parameter. */
  note: string
}

/**
 * The decision table for every Chat Completions parameter we know, so the README can be
 * generated from (and checked against) the code. `satisfies Record<keyof …>` makes the compiler
 * fail when a parameter is added to the request schema without a decision here.
 */
export const CHAT_PARAMETER_POLICY = {
  model: { handling: 'mapped', note: 'Catalog name or alias → Bedrock model id / inference profile (`modelId`).' },
  messages: { handling: 'mapped', note: 'system/developer → `system`; consecutive same-role turns merged; must start with a user turn.' },
  stream: { handling: 'service', note: '`true` → ConverseStream.' },
  stream_options: { handling: 'service', note: '`include_usage` → final usage chunk (usage is always metered).' },
  max_tokens: { handling: 'mapped', note: '→ `inferenceConfig.maxTokens` (400 above the model\'s maximum output).' },
  max_completion_tokens: { handling: 'mapped', note: '→ `inferenceConfig.maxTokens`; wins over `max_tokens`.' },
  temperature: { handling: 'mapped', note: '→ `inferenceConfig.temperature`; 400 together with reasoning on Claude (thinking forbids it) unless 1.' },
  top_p: { handling: 'mapped', note: '→ `inferenceConfig.topP`; 400 together with reasoning on Claude unless 1.' },
  stop: { handling: 'mapped', note: 'String or array → `inferenceConfig.stopSequences` (empty strings dropped).' },
  n: { handling: 'refused-when-set', note: 'Only `n: 1`: Converse returns one choice. `n > 1` → 400.' },
  tools: { handling: 'mapped', note: 'Function tools → `toolConfig.tools[].toolSpec` (`parameters` → `inputSchema.json`). 400 for models without tool support.' },
  tool_choice: { handling: 'mapped', note: 'auto → `{auto}`, required → `{any}`, named → `{tool}`, none → no toolConfig (or, when the history holds tool calls, the specs plus a "do not call tools" instruction, and any call the model makes anyway is dropped).' },
  parallel_tool_calls: { handling: 'emulated', note: '`true`/absent: ignored (default). `false`: only the first tool call of a reply is returned.' },
  response_format: { handling: 'emulated', note: 'json_object / json_schema → a forced tool whose input becomes the message content. Combined with tools: the model must call one of your tools or the JSON tool.' },
  reasoning_effort: { handling: 'mapped', note: 'Claude: extended thinking with a token budget by effort; gpt-oss: passed through (minimal → low); always-reasoning models: ignored; others: 400.' },
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

/** System instruction added when tools must not be called but the history holds tool calls. */
export const noToolsInstruction = (names: string[]) =>
  `Tool use is disabled for this reply. Do not call any of these tools: ${names.join(', ')}. Answer with the information you already have.`

/** What the response side must know about how the request was translated. */
export interface OutputPlan {
  /** The forced tool that carries JSON output (response_format), or null. Its input is the message content. */
  jsonTool: string | null
  /** Client-visible tool calls to pass on: 0 when tools are disallowed, 1 when `parallel_tool_calls` is false. */
  maxToolCalls: number
}

/** Derives the {@link OutputPlan} from the request body (used by both response paths). */
export function outputPlan(body: ChatCompletionRequest): OutputPlan {
  const tools = body.tools ?? []
  const choice = body.tool_choice ?? 'auto'
  const maxToolCalls = tools.length === 0 || choice === 'none' ? 0 : body.parallel_tool_calls === false ? 1 : Infinity
  return { jsonTool: jsonToolName(body), maxToolCalls }
}

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

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
}

type CacheControl = { type: 'ephemeral'; ttl?: string }

/** Anthropic/LiteLLM-style `cache_control` read off any object the schema let through. */
function cacheControlOf(x: unknown): CacheControl | null {
  const cc = (x as { cache_control?: unknown } | null)?.cache_control as { type?: unknown; ttl?: unknown } | undefined
  return cc && typeof cc === 'object' && cc.type === 'ephemeral' ? (cc as CacheControl) : null
}

function cachePoint(cc: CacheControl): CachePointBlock {
  // Bedrock's CachePointBlock knows only type "default" plus an optional TTL of 5m / 1h.
  return cc.ttl === '5m' || cc.ttl === '1h' ? { type: 'default', ttl: cc.ttl } : { type: 'default' }
}

const isBlank = (s: string) => s.trim() === ''

interface TextItem { text: string; cc: CacheControl | null }

/**
 * Text of system/developer/assistant/tool content. Only text parts are allowed there
 * (assistant messages may also carry `refusal` parts, treated as text).
 */
function textItems(content: string | ContentPart[] | null | undefined, path: string, allowRefusal = false): TextItem[] {
  if (content == null) return []
  if (typeof content === 'string') return [{ text: content, cc: null }]
  return content.map((part, j) => {
    const p = part as { type: string; text?: unknown; refusal?: unknown }
    if (p.type === 'text' && typeof p.text === 'string') return { text: p.text, cc: cacheControlOf(part) }
    if (allowRefusal && p.type === 'refusal' && typeof p.refusal === 'string') return { text: p.refusal, cc: cacheControlOf(part) }
    throw badRequest(`Content part type '${p.type}' is not supported in this message; only text is.`, `${path}[${j}]`, 'unsupported_content_part')
  })
}

/** Parses a base64 data URL into a Converse image block. Remote URLs are refused: we never fetch. */
function imageBlock(url: string, path: string): ContentBlock {
  if (/^https?:\/\//i.test(url)) {
    throw badRequest(
      'Image URLs are not fetched by this gateway. Send the image inline as a base64 data URL (data:image/png;base64,…).',
      path, 'image_url_not_supported')
  }
  const m = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s.exec(url)
  if (!m) throw badRequest('image_url.url must be a base64 data URL (data:image/<type>;base64,…).', path, 'invalid_image_url')
  const mediaType = m[1].trim().toLowerCase()
  const format = IMAGE_FORMATS[mediaType]
  if (!format) throw badRequest(`Image type '${mediaType}' is not supported; use png, jpeg, gif or webp.`, path, 'invalid_image_format')
  if (!/;base64/i.test(m[2])) throw badRequest('Image data URLs must be base64-encoded (";base64,").', path, 'invalid_image_url')
  const data = m[3].replace(/\s+/g, '')
  if (data === '' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(data)) throw badRequest('Image data URL does not hold valid base64 data.', path, 'invalid_image_url')
  const buf = Buffer.from(data, 'base64')
  // A plain Uint8Array (not a Buffer) is what the SDK documents for blob members.
  return { image: { format, source: { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) } } }
}

function userBlocks(content: string | ContentPart[], path: string, model: CatalogModel, caching: boolean): ContentBlock[] {
  const out: ContentBlock[] = []
  if (typeof content === 'string') {
    if (!isBlank(content)) out.push({ text: content })
    return out
  }
  content.forEach((part, j) => {
    const p = part as { type: string; text?: unknown; image_url?: { url?: unknown } }
    const partPath = `${path}[${j}]`
    let block: ContentBlock | null
    if (p.type === 'text' && typeof p.text === 'string') {
      block = isBlank(p.text) ? null : { text: p.text }
    } else if (p.type === 'image_url' && typeof p.image_url?.url === 'string') {
      if (model.capabilities.vision !== true) {
        throw badRequest(`Model '${model.id}' does not accept images.`, partPath, 'model_not_vision_capable')
      }
      block = imageBlock(p.image_url.url, partPath)
    } else {
      throw badRequest(`Content part type '${p.type}' is not supported by this gateway (text and image_url are).`, partPath, 'unsupported_content_part')
    }
    if (!block) return
    out.push(block)
    const cc = cacheControlOf(part)
    if (cc && caching) out.push({ cachePoint: cachePoint(cc) })
  })
  return out
}

function textBlocksFrom(items: TextItem[], caching: boolean): Array<{ text: string } | { cachePoint: CachePointBlock }> {
  const out: Array<{ text: string } | { cachePoint: CachePointBlock }> = []
  for (const item of items) {
    if (isBlank(item.text)) continue // Converse rejects blank text blocks
    out.push({ text: item.text })
    if (item.cc && caching) out.push({ cachePoint: cachePoint(item.cc) })
  }
  return out
}

function parseArguments(args: string, path: string): Document {
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
  return parsed as Document
}

interface Translated {
  system: SystemContentBlock[]
  /** System text to fold into the first user turn for models without a system prompt. */
  folded: string[]
  messages: Message[]
  /** Tool names seen in the history (assistant tool calls), in order of appearance. */
  historyTools: string[]
}

function translateMessages(msgs: ChatMessage[], model: CatalogModel): Translated {
  const caching = model.capabilities.promptCaching === true
  const systemAllowed = model.capabilities.systemPrompt !== false
  const system: SystemContentBlock[] = []
  const folded: string[] = []
  const messages: Message[] = []
  const historyTools: string[] = []
  /** Tool calls of the last assistant message still waiting for their `tool` message. */
  let pending: { index: number; ids: Set<string> } | null = null

  const push = (role: 'user' | 'assistant', blocks: ContentBlock[]) => {
    if (blocks.length === 0) return
    const last = messages[messages.length - 1]
    // Converse requires alternating roles: consecutive same-role messages become one turn.
    if (last && last.role === role) last.content!.push(...blocks)
    else messages.push({ role, content: [...blocks] })
  }
  const closePending = () => {
    if (pending && pending.ids.size > 0) {
      throw badRequest(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id' (missing: ${[...pending.ids].join(', ')}).`,
        `messages[${pending.index}].tool_calls`, 'missing_tool_result')
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
        if (systemAllowed) {
          system.push(...textBlocksFrom(withMessageCc(items, msg), caching))
        } else {
          folded.push(...items.map((x) => x.text).filter((t) => !isBlank(t)))
        }
        return
      }
      case 'user': {
        const blocks = userBlocks(msg.content, `${path}.content`, model, caching)
        if (blocks.length === 0) throw badRequest('User messages must have non-blank content.', `${path}.content`, 'empty_content')
        const cc = cacheControlOf(msg)
        if (cc && caching && !('cachePoint' in blocks[blocks.length - 1])) blocks.push({ cachePoint: cachePoint(cc) })
        push('user', blocks)
        return
      }
      case 'assistant': {
        const items = textItems(msg.content, `${path}.content`, true)
        const blocks: ContentBlock[] = textBlocksFrom(items, caching)
        const ids = new Set<string>()
        ;(msg.tool_calls ?? []).forEach((call, k) => {
          const input = parseArguments(call.function.arguments, `${path}.tool_calls[${k}].function.arguments`)
          blocks.push({ toolUse: { toolUseId: call.id, name: call.function.name, input } })
          ids.add(call.id)
          if (!historyTools.includes(call.function.name)) historyTools.push(call.function.name)
        })
        const cc = cacheControlOf(msg)
        if (cc && caching && blocks.length > 0 && !('cachePoint' in blocks[blocks.length - 1])) blocks.push({ cachePoint: cachePoint(cc) })
        // An assistant message with neither text nor tool calls carries nothing Converse accepts.
        push('assistant', blocks)
        if (ids.size > 0) pending = { index: i, ids }
        return
      }
      case 'tool': {
        if (!pending || !pending.ids.has(msg.tool_call_id)) {
          throw badRequest(
            `Tool message '${msg.tool_call_id}' does not answer a tool call of the preceding assistant message.`,
            `${path}.tool_call_id`, 'unknown_tool_call_id')
        }
        pending.ids.delete(msg.tool_call_id)
        const texts = textItems(msg.content, `${path}.content`).filter((x) => !isBlank(x.text))
        // Converse rejects blank text; an empty tool output still needs a result block.
        const content: ToolResultContentBlock[] = texts.length > 0 ? texts.map((x) => ({ text: x.text })) : [{ text: '(empty)' }]
        const blocks: ContentBlock[] = [{ toolResult: { toolUseId: msg.tool_call_id, content } }]
        const cc = cacheControlOf(msg) ?? texts.map((x) => x.cc).find(Boolean) ?? null
        if (cc && caching) blocks.push({ cachePoint: cachePoint(cc) })
        push('user', blocks)
        return
      }
    }
  })
  closePending()
  return { system, folded, messages, historyTools }
}

/** A message-level `cache_control` (LiteLLM style) applies to the message's last text item. */
function withMessageCc(items: TextItem[], msg: unknown): TextItem[] {
  const cc = cacheControlOf(msg)
  const last = items[items.length - 1]
  if (!cc || !last || last.cc) return items
  return [...items.slice(0, -1), { text: last.text, cc }]
}

// ---------------------------------------------------------------------------------------------

function checkRefusedParams(body: ChatCompletionRequest) {
  if (body.n != null && body.n > 1) throw unsupported('n', 'n > 1 is not supported: Bedrock returns a single choice per request.')
  if (body.logprobs === true) throw unsupported('logprobs', 'logprobs is not supported: Bedrock does not return token log probabilities.')
  if (body.top_logprobs != null && body.top_logprobs > 0) throw unsupported('top_logprobs', 'top_logprobs is not supported: Bedrock does not return token log probabilities.')
  if (body.presence_penalty != null && body.presence_penalty !== 0) throw unsupported('presence_penalty', 'presence_penalty is not supported by Bedrock Converse; omit it or send 0.')
  if (body.frequency_penalty != null && body.frequency_penalty !== 0) throw unsupported('frequency_penalty', 'frequency_penalty is not supported by Bedrock Converse; omit it or send 0.')
  if (body.logit_bias != null && Object.keys(body.logit_bias).length > 0) throw unsupported('logit_bias', 'logit_bias is not supported by Bedrock Converse.')
}

function toolSpecs(body: ChatCompletionRequest, caching: boolean): Tool[] {
  const out: Tool[] = []
  for (const tool of body.tools ?? []) {
    const fn = tool.function
    out.push({
      toolSpec: {
        name: fn.name,
        // Converse refuses an empty description; absent is fine.
        ...(fn.description ? { description: fn.description } : {}),
        inputSchema: { json: (fn.parameters ?? { type: 'object', properties: {} }) as Document },
      },
    })
    const cc = cacheControlOf(tool)
    if (cc && caching) out.push({ cachePoint: cachePoint(cc) })
  }
  return out
}

function jsonToolSpec(body: ChatCompletionRequest, name: string): Tool {
  const rf = body.response_format!
  const schema = rf.type === 'json_schema' && rf.json_schema.schema ? rf.json_schema.schema : { type: 'object' }
  const description = rf.type === 'json_schema' && rf.json_schema.description
    ? `Give your final answer by calling this tool. ${rf.json_schema.description}`
    : 'Give your final answer by calling this tool: its input is your answer, as a JSON object.'
  return { toolSpec: { name, description, inputSchema: { json: schema as Document } } }
}

interface ToolPlan {
  toolConfig?: ConverseCommandInput['toolConfig']
  /** A system instruction to append (tools present only for the sake of the history). */
  instruction?: string
  /** Converse toolChoice is any/tool: Claude's thinking refuses those. */
  forced: boolean
}

function planTools(body: ChatCompletionRequest, model: CatalogModel, historyTools: string[]): ToolPlan {
  const caching = model.capabilities.promptCaching === true
  const userTools = body.tools ?? []
  const choice = body.tool_choice ?? 'auto'
  const json = jsonToolName(body)
  const names = userTools.map((t) => t.function.name)

  if ((userTools.length > 0 || historyTools.length > 0) && model.capabilities.tools !== true) {
    throw badRequest(`Model '${model.id}' does not support tool calling.`, userTools.length > 0 ? 'tools' : 'messages', 'tools_not_supported')
  }
  if (typeof choice === 'object' && !names.includes(choice.function.name)) {
    throw badRequest(`tool_choice names '${choice.function.name}', which is not among the tools.`, 'tool_choice', 'unknown_tool')
  }
  if (choice === 'required' && userTools.length === 0) {
    throw badRequest("tool_choice 'required' needs at least one tool in 'tools'.", 'tool_choice')
  }
  if (json && names.includes(json)) {
    throw badRequest(`response_format's schema name '${json}' collides with a tool of the same name; rename one of them.`, 'response_format')
  }

  if (userTools.length > 0 && choice !== 'none') {
    const tools = toolSpecs(body, caching)
    let toolChoice: ConverseToolChoice
    if (typeof choice === 'object') toolChoice = { tool: { name: choice.function.name } }
    else if (choice === 'required') toolChoice = { any: {} }
    else if (json) {
      // Tools + JSON output: the model must either call one of the client's tools or answer
      // through the JSON tool, so a textual answer can never bypass the schema.
      tools.push(jsonToolSpec(body, json))
      toolChoice = { any: {} }
    } else toolChoice = { auto: {} }
    return { toolConfig: { tools, toolChoice }, forced: !('auto' in toolChoice) }
  }

  // No callable tools (tool_choice none, or none given).
  const tools: Tool[] = []
  let instruction: string | undefined
  if (historyTools.length > 0) {
    // Converse rejects toolUse/toolResult blocks without a toolConfig, so the specs must stay:
    // the client's own when given, else stand-ins named after the calls in the history.
    if (userTools.length > 0) {
      tools.push(...toolSpecs(body, caching))
      for (const name of historyTools) {
        if (!names.includes(name)) tools.push(standInSpec(name))
      }
    } else tools.push(...historyTools.map(standInSpec))
    instruction = noToolsInstruction(tools.flatMap((t) => (t.toolSpec?.name ? [t.toolSpec.name] : [])))
  }
  if (json) {
    tools.push(jsonToolSpec(body, json))
    return { toolConfig: { tools, toolChoice: { tool: { name: json } } }, instruction, forced: true }
  }
  if (tools.length === 0) return { forced: false }
  return { toolConfig: { tools, toolChoice: { auto: {} } }, instruction, forced: false }
}

function standInSpec(name: string): Tool {
  return {
    toolSpec: {
      name,
      description: 'Used earlier in this conversation; not available now.',
      inputSchema: { json: { type: 'object', properties: {} } },
    },
  }
}

/** True when the conversation ends inside a tool loop: tool results answering the last assistant turn. */
function endsInToolLoop(messages: Message[]): boolean {
  const last = messages[messages.length - 1]
  return last?.role === 'user' && (last.content ?? []).some((b) => 'toolResult' in b && b.toolResult)
}

// ---------------------------------------------------------------------------------------------

/**
 * Translates a validated OpenAI Chat Completions request into a Bedrock Converse (or
 * ConverseStream — the input shapes are the same) request.
 *
 * Spec: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 * (request) from https://platform.openai.com/docs/api-reference/chat/create. Decisions for each
 * OpenAI parameter are in {@link CHAT_PARAMETER_POLICY}.
 *
 * @throws ApiError 400 for anything Converse cannot express faithfully.
 */
export function toConverseInput(req: ChatRequest, opts: { keyId: string }): ConverseCommandInput {
  const { body, model } = req
  checkRefusedParams(body)

  const { system, folded, messages, historyTools } = translateMessages(body.messages, model)
  if (messages.length === 0) throw badRequest('messages must contain at least one user message.', 'messages', 'missing_user_message')
  if (messages[0].role !== 'user') {
    throw badRequest('The conversation must start with a user message (after any system or developer messages).', 'messages', 'invalid_message_order')
  }
  if (folded.length > 0) {
    // Models without a system prompt get the instructions at the top of the first user turn.
    messages[0].content!.unshift({ text: folded.join('\n\n') })
  }
  const last = messages[messages.length - 1]
  if (last.role === 'assistant') {
    // Assistant prefill: Anthropic rejects a final assistant turn ending in whitespace.
    const blocks = last.content!
    const lastText = [...blocks].reverse().find((b) => typeof b.text === 'string')
    if (lastText && lastText.text !== undefined) (lastText as { text: string }).text = lastText.text.trimEnd()
  }

  const tools = planTools(body, model, historyTools)
  if (tools.instruction) {
    if (model.capabilities.systemPrompt !== false) system.push({ text: tools.instruction })
    else messages[0].content!.unshift({ text: tools.instruction })
  }

  // Inference parameters -----------------------------------------------------------------------
  const inference: InferenceConfiguration = {}
  const requestedMax = body.max_completion_tokens ?? body.max_tokens ?? undefined
  const maxParam = body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens'
  if (requestedMax != null && model.maxOutputTokens && requestedMax > model.maxOutputTokens) {
    throw badRequest(`${maxParam} is too large: ${requestedMax}. Model '${model.id}' supports at most ${model.maxOutputTokens} output tokens.`, maxParam, 'max_tokens_too_large')
  }
  if (requestedMax != null) inference.maxTokens = requestedMax
  if (body.temperature != null) inference.temperature = body.temperature
  if (body.top_p != null) inference.topP = body.top_p
  const stops = (typeof body.stop === 'string' ? [body.stop] : body.stop ?? []).filter((s) => s !== '')
  if (stops.length > 0) inference.stopSequences = stops

  // Reasoning --------------------------------------------------------------------------------
  const additional: Record<string, Document> = {}
  const effort = body.reasoning_effort
  if (effort) {
    switch (model.capabilities.reasoning) {
      case 'anthropic': {
        if (tools.forced) {
          throw unsupported('reasoning_effort',
            "reasoning_effort cannot be combined with response_format JSON output or a forced tool_choice ('required' or a named function) on this model: Claude's extended thinking only allows tool_choice auto.")
        }
        if (body.temperature != null && body.temperature !== 1) {
          throw unsupported('temperature', 'temperature cannot be set together with reasoning_effort on this model (Claude extended thinking); omit it.')
        }
        if (body.top_p != null && body.top_p !== 1) {
          throw unsupported('top_p', 'top_p cannot be set together with reasoning_effort on this model (Claude extended thinking); omit it.')
        }
        // Mid tool loop, Anthropic demands the signed thinking block of the last assistant turn,
        // which OpenAI clients cannot send back: answer this step without thinking instead.
        if (endsInToolLoop(messages)) break
        delete inference.temperature
        delete inference.topP
        const cap = model.maxOutputTokens ?? Infinity
        let budget = Math.min(THINKING_BUDGETS[effort], cap - 1)
        let maxTokens: number
        if (requestedMax == null) maxTokens = Math.min(cap, budget + THINKING_ANSWER_ROOM)
        else if (requestedMax > budget) maxTokens = requestedMax
        // Bedrock needs maxTokens > budget_tokens: the client's limit then bounds the answer.
        else maxTokens = Math.min(cap, budget + requestedMax)
        if (maxTokens <= budget) budget = maxTokens - 1
        if (budget < MIN_THINKING_BUDGET) {
          throw badRequest(`Model '${model.id}' cannot think within ${maxTokens} output tokens (thinking needs at least ${MIN_THINKING_BUDGET}).`, maxParam)
        }
        inference.maxTokens = maxTokens
        additional.thinking = { type: 'enabled', budget_tokens: budget }
        break
      }
      case 'effort':
        // gpt-oss knows low/medium/high.
        additional.reasoning_effort = effort === 'minimal' ? 'low' : effort
        break
      case 'always':
        break // reasons anyway; the effort cannot be steered
      default:
        throw unsupported('reasoning_effort', `Model '${model.id}' does not support reasoning_effort.`)
    }
  }

  const input: ConverseCommandInput = {
    modelId: model.upstreamId,
    messages,
    requestMetadata: { keyId: opts.keyId },
  }
  if (system.length > 0) input.system = system
  if (Object.keys(inference).length > 0) input.inferenceConfig = inference
  if (tools.toolConfig) input.toolConfig = tools.toolConfig
  if (Object.keys(additional).length > 0) input.additionalModelRequestFields = additional as Document
  return input
}
