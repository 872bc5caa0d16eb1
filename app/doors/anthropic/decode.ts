/**
 * Anthropic Messages request → the neutral {@link ChatCall}. Pure: everything the client did
 * wrong becomes an ApiError (400) naming the offending field (`messages.1.content.0`, as
 * Anthropic's own errors do).
 *
 * Specs:
 * - https://docs.anthropic.com/en/api/messages (request body, content blocks)
 * - https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking
 * - the neutral model: app/core/call.ts
 */
import type {
  Block,
  CacheMark,
  ChatCall,
  ChatMessage,
  DocumentBlock,
  ImageBlock,
  ImageMediaType,
  TextBlock,
  ToolChoice,
  ToolSpec,
} from '../../core/call.js'
import { isS3Url, s3DocumentBlock, s3ImageBlock } from '../../core/s3-reference.js'
import { badRequest } from '../../errors.js'
import type { CatalogModel } from '../../schemas/catalog.js'
import type { CountTokensRequest, MessagesRequest } from '../../schemas/messages.js'

/** Anthropic's minimum thinking budget. */
export const MIN_THINKING_BUDGET = 1024

const IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

type Raw = Record<string, unknown>
const isObject = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x)

/** Anthropic's `cache_control: {type: 'ephemeral', ttl?}`. */
function cacheOf(x: Raw): CacheMark | undefined {
  const cc = x.cache_control
  if (!isObject(cc) || cc.type !== 'ephemeral') return undefined
  return cc.ttl === '5m' || cc.ttl === '1h' ? { ttl: cc.ttl } : {}
}

const withCache = <B extends Block>(block: B, raw: Raw): B => {
  const cache = cacheOf(raw)
  return cache ? { ...block, cache } : block
}

function str(raw: Raw, field: string, at: string): string {
  const v = raw[field]
  if (typeof v !== 'string')
    throw badRequest(`${at}.${field}: Field required (a string).`, `${at}.${field}`, 'invalid_value')
  return v
}

function bytes(data: string, at: string): Uint8Array {
  const clean = data.replace(/\s+/g, '')
  if (!BASE64.test(clean)) throw badRequest(`${at}: source.data is not valid base64.`, at, 'invalid_base64')
  const buf = Buffer.from(clean, 'base64')
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}

/** Tool ids: Bedrock's `tooluse_…` travel as `toolu_bdrk_…` (Anthropic's style) and back. */
export const toAnthropicToolId = (id: string): string => (id.startsWith('tooluse_') ? `toolu_bdrk_${id.slice(8)}` : id)
export const fromAnthropicToolId = (id: string): string =>
  id.startsWith('toolu_bdrk_') ? `tooluse_${id.slice(11)}` : id

const SERVER_BLOCKS = new RegExp(
  `^(${[
    'server_tool_use',
    'web_search_tool_result',
    'web_fetch_tool_result',
    'code_execution_tool_result',
    'bash_code_execution_tool_result',
    'text_editor_code_execution_tool_result',
    'mcp_tool_use',
    'mcp_tool_result',
    'container_upload',
    'search_result',
    'tool_search_tool_result',
  ].join('|')})$`,
)

function media(raw: Raw, at: string, model: CatalogModel): ImageBlock | DocumentBlock {
  const source = raw.source
  if (!isObject(source)) throw badRequest(`${at}.source: Field required.`, `${at}.source`, 'invalid_value')
  if (source.type === 'url' && typeof source.url === 'string' && isS3Url(source.url)) {
    if (raw.type === 'image' && model.capabilities.vision !== true)
      throw badRequest(`Model '${model.id}' does not accept images.`, at, 'model_not_vision_capable')
    const url = `${at}.source.url`
    const name = typeof raw.title === 'string' ? raw.title : undefined
    return withCache<ImageBlock | DocumentBlock>(
      raw.type === 'image' ? s3ImageBlock(source.url, url) : s3DocumentBlock(source.url, url, { name }),
      raw,
    )
  }
  if (source.type === 'url' || source.type === 'file') {
    throw badRequest(
      `${at}.source: ${source.type} sources are not fetched by this gateway; send the ${raw.type} inline as base64, ` +
        'or a large one as a url source s3://bucket/key in a bucket this gateway allows.',
      `${at}.source`,
      `${raw.type}_url_not_supported`,
    )
  }
  if (raw.type === 'image') {
    if (model.capabilities.vision !== true)
      throw badRequest(`Model '${model.id}' does not accept images.`, at, 'model_not_vision_capable')
    if (source.type !== 'base64')
      throw badRequest(`${at}.source.type: expected 'base64'.`, `${at}.source.type`, 'invalid_value')
    const mediaType = str(source, 'media_type', `${at}.source`)
    if (!IMAGE_TYPES.has(mediaType))
      throw badRequest(
        `${at}.source.media_type: '${mediaType}' is not supported; use image/png, image/jpeg, image/gif or image/webp.`,
        `${at}.source.media_type`,
        'invalid_image_format',
      )
    return withCache<ImageBlock>(
      {
        type: 'image',
        mediaType: mediaType as ImageMediaType,
        data: bytes(str(source, 'data', `${at}.source`), at),
        at,
      },
      raw,
    )
  }
  const name = typeof raw.title === 'string' ? raw.title : undefined
  if (source.type === 'text') {
    const text = str(source, 'data', `${at}.source`)
    return withCache<DocumentBlock>(
      { type: 'document', mediaType: 'text/plain', data: new Uint8Array(), text, ...(name ? { name } : {}), at },
      raw,
    )
  }
  if (source.type !== 'base64')
    throw badRequest(
      `${at}.source.type: '${String(source.type)}' is not supported; use 'base64' or 'text'.`,
      `${at}.source.type`,
      'invalid_value',
    )
  const mediaType = str(source, 'media_type', `${at}.source`)
  return withCache<DocumentBlock>(
    {
      type: 'document',
      mediaType,
      data: bytes(str(source, 'data', `${at}.source`), at),
      ...(name ? { name } : {}),
      at,
    },
    raw,
  )
}

function block(raw: unknown, at: string, role: 'user' | 'assistant', model: CatalogModel): Block | null {
  if (!isObject(raw) || typeof raw.type !== 'string')
    throw badRequest(`${at}: a content block needs a 'type'.`, at, 'invalid_value')
  switch (raw.type) {
    case 'text':
      return withCache<TextBlock>({ type: 'text', text: str(raw, 'text', at) }, raw)
    case 'image':
    case 'document':
      return media(raw, at, model)
    case 'tool_use': {
      if (role !== 'assistant')
        throw badRequest(`${at}: tool_use blocks belong in assistant messages.`, at, 'invalid_value')
      const input = raw.input ?? {}
      if (!isObject(input)) throw badRequest(`${at}.input: expected an object.`, `${at}.input`, 'invalid_value')
      return withCache<Block>(
        { type: 'tool_use', id: fromAnthropicToolId(str(raw, 'id', at)), name: str(raw, 'name', at), input, at },
        raw,
      )
    }
    case 'tool_result': {
      if (role !== 'user') throw badRequest(`${at}: tool_result blocks belong in user messages.`, at, 'invalid_value')
      const content: Array<TextBlock | ImageBlock | DocumentBlock> = []
      if (typeof raw.content === 'string') content.push({ type: 'text', text: raw.content })
      else if (Array.isArray(raw.content)) {
        raw.content.forEach((c, k) => {
          const inner = block(c, `${at}.content.${k}`, role, model)
          if (inner && (inner.type === 'text' || inner.type === 'image' || inner.type === 'document'))
            content.push(inner)
          else
            throw badRequest(
              `${at}.content.${k}: tool results may hold text, image and document blocks.`,
              `${at}.content.${k}`,
              'invalid_value',
            )
        })
      } else if (raw.content !== undefined)
        throw badRequest(`${at}.content: expected a string or an array of blocks.`, `${at}.content`, 'invalid_value')
      return withCache<Block>(
        {
          type: 'tool_result',
          toolUseId: fromAnthropicToolId(str(raw, 'tool_use_id', at)),
          content,
          ...(raw.is_error === true ? { isError: true } : {}),
          at,
        },
        raw,
      )
    }
    case 'thinking':
      return {
        type: 'reasoning',
        text: str(raw, 'thinking', at),
        ...(typeof raw.signature === 'string' ? { signature: raw.signature } : {}),
        at,
      }
    case 'redacted_thinking':
      return { type: 'redacted_reasoning', data: str(raw, 'data', at), at }
    default:
      if (SERVER_BLOCKS.test(raw.type)) {
        throw badRequest(
          `${at}: '${raw.type}' blocks are not supported by this gateway (server tools and the ` +
            `MCP connector do not run through Bedrock here).`,
          `${at}.type`,
          'unsupported_content_block',
        )
      }
      throw badRequest(`${at}: unknown content block type '${raw.type}'.`, `${at}.type`, 'unsupported_content_block')
  }
}

function system(raw: MessagesRequest['system'], where = 'system'): TextBlock[] {
  if (raw === undefined) return []
  if (typeof raw === 'string') return raw.trim() === '' ? [] : [{ type: 'text', text: raw }]
  return raw.map((b, i) => {
    const r = b as Raw
    if (r.type !== 'text')
      throw badRequest(
        `${where}.${i}: only text blocks are allowed in system content.`,
        `${where}.${i}.type`,
        'invalid_value',
      )
    return withCache<TextBlock>({ type: 'text', text: str(r, 'text', `${where}.${i}`) }, r)
  })
}

function tools(raw: Raw[] | undefined, model: CatalogModel): ToolSpec[] | undefined {
  if (!raw || raw.length === 0) return undefined
  if (model.capabilities.tools !== true)
    throw badRequest(`Model '${model.id}' does not support tool calling.`, 'tools', 'tools_not_supported')
  return raw.map((t, i) => {
    if (t.type !== undefined && t.type !== 'custom' && !('input_schema' in t)) {
      throw badRequest(
        `tools.${i}: server tool '${String(t.type)}' is not supported by this gateway; ` +
          `define a custom tool with an input_schema instead.`,
        `tools.${i}.type`,
        'unsupported_tool',
      )
    }
    const name = str(t, 'name', `tools.${i}`)
    if (!/^[a-zA-Z0-9_-]{1,128}$/.test(name))
      throw badRequest(`tools.${i}.name: must match ^[a-zA-Z0-9_-]{1,128}$.`, `tools.${i}.name`, 'invalid_value')
    const schema = t.input_schema
    if (!isObject(schema))
      throw badRequest(
        `tools.${i}.input_schema: Field required (a JSON Schema object).`,
        `tools.${i}.input_schema`,
        'invalid_value',
      )
    const cache = cacheOf(t)
    return {
      name,
      ...(typeof t.description === 'string' && t.description !== '' ? { description: t.description } : {}),
      inputSchema: schema,
      ...(cache ? { cache } : {}),
    }
  })
}

function toolChoice(raw: MessagesRequest['tool_choice'], specs: ToolSpec[] | undefined): ToolChoice | undefined {
  if (!raw) return undefined
  const disableParallel = raw.disable_parallel_tool_use === true ? { disableParallel: true } : {}
  if (raw.type === 'none') return { type: 'none' }
  if (raw.type !== 'auto' && (!specs || specs.length === 0))
    throw badRequest(
      `tool_choice.type '${raw.type}' needs at least one tool in 'tools'.`,
      'tool_choice',
      'invalid_value',
    )
  if (raw.type === 'tool') {
    if (!raw.name) throw badRequest('tool_choice.name: Field required.', 'tool_choice.name', 'invalid_value')
    if (!specs!.some((s) => s.name === raw.name))
      throw badRequest(`tool_choice.name '${raw.name}' is not among the tools.`, 'tool_choice.name', 'unknown_tool')
    return { type: 'tool', name: raw.name, ...disableParallel }
  }
  return { type: raw.type, ...disableParallel }
}

/** Options of {@link decodeMessages}. */
export interface DecodeOptions {
  /** The model was substituted (family fallback): clamp max_tokens to it instead of refusing. */
  clampMaxTokens?: boolean
}

/**
 * Decodes a validated Messages (or count_tokens, without max_tokens) request into the neutral
 * chat call for `model`.
 *
 * Spec: https://docs.anthropic.com/en/api/messages. Decisions per field:
 * MESSAGES_PARAMETER_POLICY (params.ts).
 *
 * @throws ApiError 400 naming the field.
 */
export function decodeMessages(
  body: MessagesRequest | CountTokensRequest,
  model: CatalogModel,
  opts: DecodeOptions = {},
): ChatCall {
  const servers = (body as Raw).mcp_servers
  if (Array.isArray(servers) && servers.length > 0) {
    throw badRequest(
      'mcp_servers: the MCP connector is not supported by this gateway; call MCP tools ' +
        'from the client and send custom tools instead.',
      'mcp_servers',
      'unsupported_parameter',
    )
  }
  const messages: ChatMessage[] = []
  const inConversation: TextBlock[] = []
  body.messages.forEach((m, i) => {
    const at = `messages.${i}`
    if (m.role === 'system') {
      // Converse has one system prompt: system messages inside the conversation join it, in order.
      inConversation.push(...system(m.content, at))
      return
    }
    const content =
      typeof m.content === 'string'
        ? [{ type: 'text', text: m.content } as Block]
        : m.content.flatMap((b, j) => block(b, `${at}.content.${j}`, m.role as 'user' | 'assistant', model) ?? [])
    messages.push({ role: m.role, content })
  })
  const top = body.cache_control ? cacheOf({ cache_control: body.cache_control }) : undefined
  const lastMessage = messages[messages.length - 1]
  const lastBlock = lastMessage?.content[lastMessage.content.length - 1]
  if (top && lastBlock && !lastBlock.cache)
    lastMessage.content[lastMessage.content.length - 1] = { ...lastBlock, cache: top }
  const call: ChatCall = { model, system: [...system(body.system), ...inConversation], messages }
  const format = body.output_config?.format
  if (format) call.output = { name: 'json_response', schema: format.schema }
  const specs = tools(body.tools as Raw[] | undefined, model)
  if (specs) call.tools = specs
  const choice = toolChoice(body.tool_choice, specs)
  if (choice) call.toolChoice = choice

  if ('max_tokens' in body) {
    const b = body as MessagesRequest
    let max = b.max_tokens
    if (model.maxOutputTokens && max > model.maxOutputTokens) {
      if (!opts.clampMaxTokens) {
        throw badRequest(
          `max_tokens: ${max} > ${model.maxOutputTokens}, which is the maximum allowed number ` +
            `of output tokens for ${model.id}.`,
          'max_tokens',
          'max_tokens_too_large',
        )
      }
      max = model.maxOutputTokens
    }
    call.maxTokens = max
    if (b.temperature !== undefined) call.temperature = b.temperature
    if (b.top_p !== undefined) call.topP = b.top_p
    if (b.top_k !== undefined) call.topK = b.top_k
    const stops = (b.stop_sequences ?? []).filter((s) => s !== '')
    if (stops.length > 0) call.stop = stops
  }

  const thinking = body.thinking
  if (thinking && thinking.type !== 'disabled') {
    if (model.capabilities.reasoning !== 'anthropic')
      throw badRequest(`Model '${model.id}' does not support extended thinking.`, 'thinking', 'thinking_not_supported')
    const max = call.maxTokens ?? model.maxOutputTokens ?? Infinity
    let budget: number
    if (thinking.type === 'enabled') {
      if (thinking.budget_tokens === undefined)
        throw badRequest('thinking.budget_tokens: Field required.', 'thinking.budget_tokens', 'invalid_value')
      budget = thinking.budget_tokens
      if (budget < MIN_THINKING_BUDGET)
        throw badRequest(
          `thinking.budget_tokens: must be at least ${MIN_THINKING_BUDGET}.`,
          'thinking.budget_tokens',
          'invalid_value',
        )
      if (budget >= max)
        throw badRequest('max_tokens must be greater than thinking.budget_tokens.', 'max_tokens', 'invalid_value')
    } else {
      // Adaptive: Converse takes a budget; half of max_tokens leaves the other half for the answer.
      budget = Math.floor(Math.min(max, model.maxOutputTokens ?? max) / 2)
    }
    if (budget >= MIN_THINKING_BUDGET) call.reasoning = { budgetTokens: budget }
  }
  return call
}
