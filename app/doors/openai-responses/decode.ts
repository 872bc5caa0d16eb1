/**
 * OpenAI Responses request → the neutral {@link ChatCall}. Pure: no I/O, no clock; the stored
 * conversation of `previous_response_id` and the items behind `item_reference`s are looked up
 * by the route (services/responses.ts) and handed in as plain input items. Everything the
 * client did wrong becomes an ApiError (400) naming the field in OpenAI's notation
 * (`input[2].content[0]`).
 *
 * Specs:
 * - https://platform.openai.com/docs/api-reference/responses/create
 * - https://platform.openai.com/docs/guides/function-calling (function_call / function_call_output)
 * - the neutral model: app/core/call.ts
 */
import type {
  Block,
  ChatCall,
  ChatMessage,
  DocumentBlock,
  ImageBlock,
  TextBlock,
  ToolChoice,
  ToolSpec,
} from '../../core/call.js'
import { badRequest, unsupported } from '../../errors.js'
import { isS3Url, s3DocumentBlock } from '../../core/s3-reference.js'
import type { CatalogModel } from '../../schemas/catalog.js'
import type { ResponsesRequest } from '../../schemas/responses.js'
import {
  JSON_TOOL_DEFAULT_NAME,
  type THINKING_BUDGETS,
  applyReasoningEffort,
  imageBlock,
  parseArguments,
} from '../openai-chat/decode.js'
import { decodeReasoningCarrier } from './reasoning.js'
import { RESPONSES_REFUSALS } from './refusals.js'

/** A Responses input item as JSON (the schema only checked that it is an object). */
export type InputItem = Record<string, unknown> & { type?: string; id?: string }

const isBlank = (s: string) => s.trim() === ''
const str = (v: unknown): v is string => typeof v === 'string'

/** Tool types OpenAI runs itself: the gateway cannot, so they are refused by name. */
const HOSTED_TOOLS = new RegExp(
  `^(${[
    'web_search',
    'web_search_preview',
    'file_search',
    'code_interpreter',
    'computer_use',
    'computer_use_preview',
    'image_generation',
    'mcp',
    'local_shell',
    'shell',
    'apply_patch',
    'custom',
    'tool_search',
  ].join('|')})`,
)

type Check = (v: unknown) => string | null
const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v)
const num =
  (min: number, max: number, integer = false): Check =>
  (v) =>
    typeof v !== 'number' || (integer && !Number.isInteger(v))
      ? `must be ${integer ? 'an integer' : 'a number'}`
      : v < min || v > max
        ? `must be ${max === Infinity ? `>= ${min}` : `between ${min} and ${max}`}`
        : null
const kind =
  (what: string, ok: (v: unknown) => boolean): Check =>
  (v) =>
    ok(v) ? null : `must be ${what}`
const STRING = kind('a string', str)
const OBJECT = kind('an object', isObject)

/** Shapes of the fields the route's schema leaves to the decoder (null always allowed). */
const FIELD_CHECKS: Record<string, Check> = {
  instructions: STRING,
  max_output_tokens: num(1, Infinity, true),
  temperature: num(0, 2),
  top_p: num(0, 1),
  top_logprobs: num(0, 20, true),
  tools: kind(
    'an array of tools',
    (v) => Array.isArray(v) && v.every((x) => isObject(x) && str((x as { type?: unknown }).type)),
  ),
  tool_choice: kind('a string or an object', (v) => str(v) || isObject(v)),
  parallel_tool_calls: kind('a boolean', (v) => typeof v === 'boolean'),
  text: OBJECT,
  reasoning: OBJECT,
  metadata: kind('an object of strings', (v) => isObject(v) && Object.values(v as object).every(str)),
  truncation: STRING,
  user: STRING,
  safety_identifier: STRING,
  include: kind('an array of strings', (v) => Array.isArray(v) && v.every(str)),
}

/**
 * Checks the fields' shapes and refuses those this gateway knows but cannot honour
 * ({@link RESPONSES_REFUSALS}; unknown fields are ignored).
 */
export function checkResponsesRequest(body: ResponsesRequest): void {
  const raw = body as unknown as Record<string, unknown>
  for (const [field, check] of Object.entries(FIELD_CHECKS)) {
    const v = raw[field]
    if (v === undefined || v === null) continue
    const problem = check(v)
    if (problem) throw badRequest(`Invalid value for '${field}': ${problem}.`, field, 'invalid_value')
  }
  const format = body.text?.format
  if (format !== undefined && (!isObject(format) || !str(format.type)))
    throw badRequest(
      "Invalid value for 'text.format': must be an object with a 'type'.",
      'text.format',
      'invalid_value',
    )
  for (const [field, refusal] of Object.entries(RESPONSES_REFUSALS)) {
    const v = raw[field]
    if (v != null && refusal.when(v)) throw unsupported(field, refusal.message)
  }
  if (body.truncation != null && body.truncation !== 'auto' && body.truncation !== 'disabled') {
    throw badRequest(`Invalid value for 'truncation': expected "auto" or "disabled".`, 'truncation', 'invalid_value')
  }
  if (body.input === undefined && !body.previous_response_id)
    throw badRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter')
}

/** `input` as a list of items: a string is one user message. */
export function inputItems(input: ResponsesRequest['input']): InputItem[] {
  if (input === undefined) return []
  if (typeof input === 'string')
    return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }]
  return input as InputItem[]
}

// ---------------------------------------------------------------------------------------------

/** `data:<type>;base64,<data>` → media type and bytes (input_file `file_data`). */
function dataUrl(url: string, at: string): { mediaType: string; data: Uint8Array } {
  const m = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s.exec(url)
  if (!m || !/;base64/i.test(m[2]))
    throw badRequest('file_data must be a base64 data URL (data:application/pdf;base64,…).', at, 'invalid_file_data')
  const buf = Buffer.from(m[3].replace(/\s+/g, ''), 'base64')
  return { mediaType: m[1].trim().toLowerCase(), data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) }
}

function fileBlock(part: Record<string, unknown>, at: string, model: CatalogModel): DocumentBlock {
  const name = str(part.filename) ? part.filename : undefined
  if (str(part.file_url) && isS3Url(part.file_url) && part.file_id == null && part.file_data == null) {
    if (model.capabilities.vision !== true)
      throw badRequest(`Model '${model.id}' does not accept files.`, at, 'model_not_vision_capable')
    return s3DocumentBlock(part.file_url, `${at}.file_url`, { name })
  }
  if (part.file_id != null || part.file_url != null) {
    throw badRequest(
      'Files are not fetched by this gateway (no Files API): send the file inline as `file_data` ' +
        '(a base64 data URL), or a large file as `file_url` s3://bucket/key in a bucket this gateway allows.',
      at,
      'file_reference_not_supported',
    )
  }
  if (!str(part.file_data))
    throw badRequest(
      "input_file needs 'file_data' (a base64 data URL).",
      `${at}.file_data`,
      'missing_required_parameter',
    )
  if (model.capabilities.vision !== true)
    throw badRequest(`Model '${model.id}' does not accept files.`, at, 'model_not_vision_capable')
  const { mediaType, data } = dataUrl(part.file_data, `${at}.file_data`)
  return { type: 'document', mediaType, data, ...(name ? { name } : {}), at }
}

/** User-side content (message content, function_call_output parts) → blocks. */
function inputContent(
  content: unknown,
  at: string,
  model: CatalogModel,
  allowOutputText: boolean,
): Array<TextBlock | ImageBlock | DocumentBlock> {
  if (str(content)) return isBlank(content) ? [] : [{ type: 'text', text: content }]
  if (!Array.isArray(content))
    throw badRequest(`${at} must be a string or a list of content parts.`, at, 'invalid_value')
  const out: Array<TextBlock | ImageBlock | DocumentBlock> = []
  content.forEach((raw, j) => {
    const part = (raw ?? {}) as Record<string, unknown>
    const p = `${at}[${j}]`
    switch (part.type) {
      case 'input_text':
      case 'output_text':
      case 'text':
      case 'refusal': {
        if (!allowOutputText && (part.type === 'output_text' || part.type === 'refusal')) break
        const text = str(part.text) ? part.text : str(part.refusal) ? part.refusal : undefined
        if (text === undefined) throw badRequest(`${p}.text must be a string.`, `${p}.text`, 'invalid_value')
        if (!isBlank(text)) out.push({ type: 'text', text })
        return
      }
      case 'input_image': {
        if (model.capabilities.vision !== true)
          throw badRequest(`Model '${model.id}' does not accept images.`, p, 'model_not_vision_capable')
        if (part.file_id != null)
          throw badRequest(
            'Images are not fetched by this gateway (no Files API): send them inline as a base64 ' +
              'data URL in `image_url`.',
            p,
            'file_reference_not_supported',
          )
        if (!str(part.image_url))
          throw badRequest(
            "input_image needs 'image_url' (a base64 data URL).",
            `${p}.image_url`,
            'missing_required_parameter',
          )
        out.push(imageBlock(part.image_url, `${p}.image_url`))
        return
      }
      case 'input_file':
        out.push(fileBlock(part, p, model))
        return
    }
    throw badRequest(`Content part type '${String(part.type)}' is not supported here.`, p, 'unsupported_content_part')
  })
  return out
}

function systemText(content: unknown, at: string): TextBlock[] {
  if (str(content)) return isBlank(content) ? [] : [{ type: 'text', text: content }]
  if (!Array.isArray(content))
    throw badRequest(`${at} must be a string or a list of content parts.`, at, 'invalid_value')
  return content.flatMap((raw, j) => {
    const part = (raw ?? {}) as Record<string, unknown>
    if ((part.type === 'input_text' || part.type === 'text') && str(part.text))
      return isBlank(part.text) ? [] : [{ type: 'text' as const, text: part.text }]
    throw badRequest(
      `System and developer messages may only hold text (got '${String(part.type)}').`,
      `${at}[${j}]`,
      'unsupported_content_part',
    )
  })
}

interface Translated {
  system: TextBlock[]
  messages: ChatMessage[]
  historyTools: string[]
}

/** Input items (the stored chain's first, then this request's) → system blocks and turns. */
function translateItems(items: InputItem[], model: CatalogModel, offset: number): Translated {
  const system: TextBlock[] = []
  const messages: ChatMessage[] = []
  const historyTools: string[] = []
  /** function_call ids still waiting for their function_call_output. */
  const pending = new Map<string, string>()

  const push = (role: 'user' | 'assistant', blocks: Block[]) => {
    if (blocks.length === 0) return
    const last = messages[messages.length - 1]
    if (last && last.role === role) last.content.push(...blocks)
    else messages.push({ role, content: [...blocks] })
  }
  const checkPending = (at: string) => {
    if (pending.size === 0) return
    const [callId, where] = pending.entries().next().value as [string, string]
    throw badRequest(
      `No tool output found for function call ${callId} (${where}): send a ` +
        `function_call_output item with call_id '${callId}' right after the call.`,
      at,
      'missing_tool_output',
    )
  }

  items.forEach((item, i) => {
    // Items of a stored chain come first; errors name the client's own index where there is one.
    const at = i >= offset ? `input[${i - offset}]` : `previous_response_id (stored item ${i})`
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined)
    switch (type) {
      case 'message': {
        const role = item.role
        if (role === 'system' || role === 'developer') {
          system.push(...systemText(item.content, `${at}.content`))
          return
        }
        if (role === 'assistant') {
          push('assistant', inputContent(item.content, `${at}.content`, model, true))
          return
        }
        if (role !== 'user')
          throw badRequest(
            `Invalid value for '${at}.role': expected one of "user", "assistant", "system", "developer".`,
            `${at}.role`,
            'invalid_value',
          )
        checkPending(at)
        push('user', inputContent(item.content, `${at}.content`, model, false))
        return
      }
      case 'function_call': {
        if (!str(item.call_id) || !str(item.name))
          throw badRequest(`${at}: function_call items need 'call_id' and 'name'.`, at, 'missing_required_parameter')
        const input = parseArguments(str(item.arguments) ? item.arguments : '', `${at}.arguments`)
        push('assistant', [{ type: 'tool_use', id: item.call_id, name: item.name, input, at }])
        pending.set(item.call_id, at)
        if (!historyTools.includes(item.name)) historyTools.push(item.name)
        return
      }
      case 'function_call_output': {
        if (!str(item.call_id))
          throw badRequest(
            `${at}: function_call_output items need 'call_id'.`,
            `${at}.call_id`,
            'missing_required_parameter',
          )
        if (!pending.delete(item.call_id)) {
          throw badRequest(
            `No function call found for function call output with call_id ${item.call_id}.`,
            `${at}.call_id`,
            'unknown_call_id',
          )
        }
        const content = inputContent(item.output ?? '', `${at}.output`, model, false)
        push('user', [{ type: 'tool_result', toolUseId: item.call_id, content, at }])
        return
      }
      case 'reasoning': {
        // Only reasoning this gateway produced can go back upstream (Claude checks its
        // signature); other clients' or models' reasoning items are dropped.
        const block = decodeReasoningCarrier(item.encrypted_content)
        if (block) push('assistant', [{ ...block, at }])
        return
      }
      case 'item_reference':
        throw badRequest(`${at}: item reference '${String(item.id)}' was not resolved.`, at, 'invalid_value')
    }
    throw badRequest(
      `Input item type '${String(type)}' is not supported by this gateway (message, ` +
        `function_call, function_call_output, reasoning and item_reference are).`,
      at,
      'unsupported_input_item',
    )
  })
  if (pending.size > 0) checkPending(offset < items.length ? 'input' : 'previous_response_id')
  return { system, messages, historyTools }
}

// ---------------------------------------------------------------------------------------------

/**
 * Function tools, with those grouped in a `namespace` tool (Codex sends its sub-agent tools so)
 * flattened: the model sees plain names; the encoder puts the namespace back on the calls.
 */
function flatTools(body: ResponsesRequest): Array<{ tool: Record<string, unknown>; at: string; namespace?: string }> {
  return (body.tools ?? []).flatMap((raw, i) => {
    const tool = raw as Record<string, unknown>
    if (tool.type === 'namespace' && Array.isArray(tool.tools) && str(tool.name)) {
      return (tool.tools as Array<Record<string, unknown>>).map((inner, j) => ({
        tool: inner,
        at: `tools[${i}].tools[${j}]`,
        namespace: tool.name as string,
      }))
    }
    return [{ tool, at: `tools[${i}]` }]
  })
}

/** Function name → its namespace, for the function calls of the answer. */
export function toolNamespaces(body: ResponsesRequest): Record<string, string> {
  const out: Record<string, string> = {}
  for (const { tool, namespace } of flatTools(body)) if (namespace && str(tool.name)) out[tool.name] = namespace
  return out
}

function toolSpecs(body: ResponsesRequest): ToolSpec[] {
  const seen = new Set<string>()
  return flatTools(body).map(({ tool, at }) => {
    if (tool.type !== 'function') {
      const hosted = HOSTED_TOOLS.test(String(tool.type))
      throw badRequest(
        hosted
          ? `The built-in tool '${String(tool.type)}' runs on OpenAI's servers and is not ` +
              `available through this gateway; only function tools are.`
          : `Tool type '${String(tool.type)}' is not supported by this gateway; only function tools are.`,
        at,
        'unsupported_tool',
      )
    }
    if (!str(tool.name) || !/^[a-zA-Z0-9_-]{1,64}$/.test(tool.name)) {
      throw badRequest(`${at}.name must be 1-64 letters, digits, '_' or '-'.`, `${at}.name`, 'invalid_value')
    }
    if (seen.has(tool.name))
      throw badRequest(
        `Two tools are named '${tool.name}' (namespaces are flattened for the model).`,
        `${at}.name`,
        'duplicate_tool_name',
      )
    seen.add(tool.name)
    return {
      name: tool.name,
      ...(str(tool.description) && tool.description ? { description: tool.description } : {}),
      inputSchema: (tool.parameters && typeof tool.parameters === 'object'
        ? tool.parameters
        : { type: 'object', properties: {} }) as Record<string, unknown>,
    }
  })
}

function jsonOutput(body: ResponsesRequest): ChatCall['output'] | undefined {
  const format = body.text?.format as Record<string, unknown> | undefined
  if (!format || format.type === 'text') return undefined
  if (format.type === 'json_object') return { name: JSON_TOOL_DEFAULT_NAME }
  if (format.type !== 'json_schema')
    throw badRequest(
      `Invalid value for 'text.format.type': expected one of "text", "json_object", "json_schema".`,
      'text.format.type',
      'invalid_value',
    )
  if (!format.schema || typeof format.schema !== 'object')
    throw badRequest(
      "Missing required parameter: 'text.format.schema'.",
      'text.format.schema',
      'missing_required_parameter',
    )
  const cleaned = (str(format.name) ? format.name : '').replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64)
  const name = /[a-zA-Z0-9]/.test(cleaned) ? cleaned : JSON_TOOL_DEFAULT_NAME
  return {
    name,
    ...(str(format.description) ? { description: format.description } : {}),
    schema: format.schema as Record<string, unknown>,
  }
}

function planTools(
  body: ResponsesRequest,
  specs: ToolSpec[],
  model: CatalogModel,
  historyTools: string[],
  json: string | null,
): { choice?: ToolChoice; forced: boolean } {
  const raw = body.tool_choice ?? 'auto'
  const names = specs.map((t) => t.name)
  if ((specs.length > 0 || historyTools.length > 0) && model.capabilities.tools !== true) {
    throw badRequest(
      `Model '${model.id}' does not support tool calling.`,
      specs.length > 0 ? 'tools' : 'input',
      'tools_not_supported',
    )
  }
  let choice: 'auto' | 'none' | 'required' | { name: string }
  if (typeof raw === 'string') {
    if (raw !== 'auto' && raw !== 'none' && raw !== 'required')
      throw badRequest(
        `Invalid value for 'tool_choice': expected "auto", "none", "required" or a function.`,
        'tool_choice',
        'invalid_value',
      )
    choice = raw
  } else {
    const c = raw as Record<string, unknown>
    if (c.type !== 'function' || !str(c.name)) {
      throw badRequest(
        `tool_choice of type '${String(c.type)}' is not supported by this gateway ("auto", ` +
          `"none", "required" or {"type":"function","name":…} are).`,
        'tool_choice',
        'unsupported_tool_choice',
      )
    }
    if (!names.includes(c.name))
      throw badRequest(`tool_choice names '${c.name}', which is not among the tools.`, 'tool_choice', 'unknown_tool')
    choice = { name: c.name }
  }
  if (choice === 'required' && specs.length === 0)
    throw badRequest("tool_choice 'required' needs at least one tool in 'tools'.", 'tool_choice')
  if (json && names.includes(json))
    throw badRequest(
      `text.format's schema name '${json}' collides with a tool of the same name; rename one of them.`,
      'text.format.name',
    )
  const disableParallel = body.parallel_tool_calls === false ? { disableParallel: true } : {}
  if (specs.length > 0 && choice !== 'none') {
    if (typeof choice === 'object')
      return { choice: { type: 'tool', name: choice.name, ...disableParallel }, forced: true }
    if (choice === 'required') return { choice: { type: 'any', ...disableParallel }, forced: true }
    return { choice: { type: 'auto', ...disableParallel }, forced: json !== null }
  }
  return { choice: choice === 'none' ? { type: 'none' } : undefined, forced: json !== null }
}

const EFFORTS: Record<string, keyof typeof THINKING_BUDGETS | null> = {
  none: null,
  minimal: 'minimal',
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'high',
}

/**
 * Decodes a validated Responses request into the neutral chat call for `model`. `history`: the
 * stored conversation behind `previous_response_id` (input and output items of every earlier
 * turn, oldest first); `input`: this request's items with item references already resolved.
 * Decisions per field: RESPONSES_PARAMETER_POLICY (params.ts).
 *
 * @throws ApiError 400 for anything the gateway cannot express faithfully.
 */
export function decodeResponsesRequest(
  body: ResponsesRequest,
  model: CatalogModel,
  history: InputItem[],
  input: InputItem[],
): ChatCall {
  const { system, messages, historyTools } = translateItems([...history, ...input], model, history.length)
  const instructions: TextBlock[] =
    body.instructions && !isBlank(body.instructions) ? [{ type: 'text', text: body.instructions }] : []
  if (messages.length === 0)
    throw badRequest('input must contain at least one user message.', 'input', 'missing_user_message')
  if (messages[0].role !== 'user')
    throw badRequest(
      'The conversation must start with a user message (after any system or developer messages).',
      'input',
      'invalid_message_order',
    )

  const call: ChatCall = { model, system: [...instructions, ...system], messages }
  const specs = toolSpecs(body)
  const output = jsonOutput(body)
  const plan = planTools(body, specs, model, historyTools, output?.name ?? null)
  if (specs.length > 0) call.tools = specs
  if (plan.choice) call.toolChoice = plan.choice
  if (output) call.output = output

  const max = body.max_output_tokens ?? undefined
  if (max !== undefined && model.maxOutputTokens && max > model.maxOutputTokens) {
    throw badRequest(
      `max_output_tokens is too large: ${max}. Model '${model.id}' supports at most ` +
        `${model.maxOutputTokens} output tokens.`,
      'max_output_tokens',
      'max_tokens_too_large',
    )
  }
  if (max !== undefined) call.maxTokens = max
  if (body.temperature != null) call.temperature = body.temperature
  if (body.top_p != null) call.topP = body.top_p

  const effortName = body.reasoning?.effort
  if (effortName != null) {
    if (!(effortName in EFFORTS))
      throw badRequest(
        `Invalid value for 'reasoning.effort': expected one of ${Object.keys(EFFORTS)
          .map((e) => `"${e}"`)
          .join(', ')}.`,
        'reasoning.effort',
        'invalid_value',
      )
    const effort = EFFORTS[effortName]
    if (effort) {
      applyReasoningEffort(call, effort, {
        param: 'reasoning.effort',
        maxParam: 'max_output_tokens',
        requestedMax: max,
        forced: plan.forced,
        temperature: body.temperature ?? undefined,
        topP: body.top_p ?? undefined,
        forcedMessage:
          'reasoning.effort cannot be combined with text.format JSON output or a forced ' +
          "tool_choice ('required' or a named function) on this model: Claude's extended " +
          'thinking only allows tool_choice auto.',
      })
    }
  }
  return call
}
