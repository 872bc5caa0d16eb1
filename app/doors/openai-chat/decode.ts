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
import { badRequest, unsupported } from '../../errors.js'
import { isS3Url, s3ImageBlock } from '../../core/s3-reference.js'
import type { CatalogModel } from '../../schemas/catalog.js'
import type { ChatCompletionRequest, ChatMessage, ContentPart } from '../../schemas/chat.js'
import { REFUSED_CHAT_PARAMETERS } from './params.js'
import { applyReasoningEffort } from './reasoning-effort.js'

export { CHAT_PARAMETER_POLICY, type ParamHandling, type ParamPolicy } from './params.js'

export {
  applyReasoningEffort,
  type EffortContext,
  MIN_THINKING_BUDGET,
  REASONING_EFFORT_BY_MODEL,
  THINKING_ANSWER_ROOM,
  THINKING_BUDGETS,
} from './reasoning-effort.js'
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

/** The policy's refusals: a parameter set to a value Bedrock cannot honour is a 400 naming it. */
function checkRefusedParams(body: ChatCompletionRequest) {
  const raw = body as unknown as Record<string, unknown>
  for (const [param, refusal] of REFUSED_CHAT_PARAMETERS) {
    const value = raw[param]
    if (value != null && refusal.when(value)) throw unsupported(param, refusal.message)
  }
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
 * OpenAI parameter are in CHAT_PARAMETER_POLICY (params.ts), whose refusals are enforced here.
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
