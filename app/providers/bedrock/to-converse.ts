/**
 * Neutral chat call → Bedrock Converse request. Pure: no I/O, no clock, no logger. The front
 * doors have validated the call against their own wire format; what is left here is what
 * Converse itself requires (alternating roles, no blank text, a toolConfig whenever the history
 * holds tool blocks) and the emulations Bedrock needs (JSON output through a forced tool,
 * tool_choice none with tool calls in the history).
 *
 * Which wire parameters become which neutral fields, and which are refused before a call gets
 * here, is each door's parameter table (e.g. CHAT_PARAMETER_POLICY, app/doors/openai-chat/params.ts,
 * which the chat decoder enforces and docs/api-and-parameters.md is generated from).
 *
 * Specs:
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ContentBlock.html
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 */
import type {
  CachePointBlock,
  ContentBlock,
  ConverseCommandInput,
  DocumentFormat,
  ImageFormat,
  InferenceConfiguration,
  Message,
  SystemContentBlock,
  Tool,
  ToolChoice as ConverseToolChoice,
  ToolResultContentBlock,
  ToolUseBlock,
  S3Location,
} from '@aws-sdk/client-bedrock-runtime'
import {
  historyToolNames,
  type Block,
  type CacheMark,
  type ChatCall,
  type S3Reference,
  type ToolSpec,
} from '../../core/call.js'
import { badRequest } from '../../errors.js'

type Document = NonNullable<ToolUseBlock['input']>

/** System instruction added when tools must not be called but the history holds tool calls. */
export const noToolsInstruction = (names: string[]) =>
  `Tool use is disabled for this reply. Do not call any of these tools: ` +
  `${names.join(', ')}. Answer with the information you already have.`

/** What the response side must know about how the call was translated. */
export interface OutputPlan {
  /** The forced tool that carries JSON output, or null. Its input is the answer's text. */
  jsonTool: string | null
  /** Tool calls to pass on: 0 when tools are disallowed, 1 when parallel calls are disabled. */
  maxToolCalls: number
}

/** Derives the {@link OutputPlan} from the call (used by both response paths). */
export function outputPlan(call: ChatCall): OutputPlan {
  const tools = call.tools ?? []
  const choice = call.toolChoice
  const maxToolCalls = tools.length === 0 || choice?.type === 'none' ? 0 : choice?.disableParallel ? 1 : Infinity
  return { jsonTool: call.output?.name ?? null, maxToolCalls }
}

// ---------------------------------------------------------------------------------------------

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
}

/** Converse document formats by media type. https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_DocumentBlock.html */
export const DOCUMENT_FORMATS: Readonly<Record<string, DocumentFormat>> = {
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'text/markdown': 'md',
  'text/html': 'html',
  'text/csv': 'csv',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
}

// Bedrock's CachePointBlock knows only type "default" plus an optional TTL of 5m / 1h.
const cachePoint = (mark: CacheMark): CachePointBlock =>
  mark.ttl ? { type: 'default', ttl: mark.ttl } : { type: 'default' }

const isBlank = (s: string) => s.trim() === ''

/**
 * Converse document names: letters, digits, single spaces, hyphens, parentheses and square
 * brackets, unique within a request.
 */
function documentName(name: string | undefined, used: Set<string>): string {
  const base =
    (name ?? '')
      .replace(/[^A-Za-z0-9\s\-()[\]]/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 200) || 'document'
  let candidate = base
  for (let n = 2; used.has(candidate); n++) candidate = `${base} (${n})`
  used.add(candidate)
  return candidate
}

interface Encoder {
  caching: boolean
  docNames: Set<string>
}

/**
 * An S3 reference as Converse's `s3Location` (image, document and video sources take it; the
 * model must support S3 input, which the chat use case checks before a reference gets here).
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_S3Location.html
 */
const s3Location = (ref: S3Reference): S3Location => ({
  uri: ref.uri,
  ...(ref.bucketOwner ? { bucketOwner: ref.bucketOwner } : {}),
})

function mediaBlock(
  b: Extract<Block, { type: 'image' | 'document' }>,
  enc: Encoder,
): ContentBlock.ImageMember | ContentBlock.DocumentMember {
  if (b.type === 'image') {
    const format = IMAGE_FORMATS[b.mediaType]
    if (!format)
      throw badRequest(
        `Image type '${b.mediaType}' is not supported; use png, jpeg, gif or webp.`,
        b.at ?? null,
        'invalid_image_format',
      )
    return { image: { format, source: b.source ? { s3Location: s3Location(b.source) } : { bytes: b.data } } }
  }
  const format = DOCUMENT_FORMATS[b.mediaType]
  if (!format)
    throw badRequest(
      `Document type '${b.mediaType}' is not supported; use one of ${Object.keys(DOCUMENT_FORMATS).join(', ')}.`,
      b.at ?? null,
      'invalid_document_format',
    )
  const source = b.source
    ? { s3Location: s3Location(b.source) }
    : b.text !== undefined
      ? { text: b.text }
      : { bytes: b.data }
  return { document: { format, name: documentName(b.name, enc.docNames), source } }
}

/** Neutral blocks of one message → Converse content blocks (blank text dropped, cache points after marked blocks). */
function contentBlocks(blocks: Block[], enc: Encoder): ContentBlock[] {
  const out: ContentBlock[] = []
  for (const b of blocks) {
    let block: ContentBlock
    switch (b.type) {
      case 'text':
        if (isBlank(b.text)) continue // Converse rejects blank text blocks
        block = { text: b.text }
        break
      case 'image':
      case 'document':
        block = mediaBlock(b, enc)
        break
      case 'tool_use':
        block = { toolUse: { toolUseId: b.id, name: b.name, input: b.input as Document } }
        break
      case 'tool_result': {
        const content: ToolResultContentBlock[] = []
        for (const c of b.content) {
          if (c.type === 'text') {
            if (!isBlank(c.text)) content.push({ text: c.text })
          } else content.push(mediaBlock(c, enc) as ToolResultContentBlock)
        }
        // Converse rejects blank text; an empty tool output still needs a result block.
        if (content.length === 0) content.push({ text: '(empty)' })
        block = { toolResult: { toolUseId: b.toolUseId, content, ...(b.isError ? { status: 'error' as const } : {}) } }
        break
      }
      case 'reasoning':
        block = {
          reasoningContent: {
            reasoningText: { text: b.text, ...(b.signature !== undefined ? { signature: b.signature } : {}) },
          },
        }
        break
      case 'redacted_reasoning':
        // The data is the base64 text Bedrock gave us for redactedContent: back to its bytes.
        block = { reasoningContent: { redactedContent: new Uint8Array(Buffer.from(b.data, 'base64')) } }
        break
    }
    out.push(block)
    if (b.cache && enc.caching) out.push({ cachePoint: cachePoint(b.cache) })
  }
  return out
}

function toolSpecs(tools: ToolSpec[], caching: boolean): Tool[] {
  const out: Tool[] = []
  for (const t of tools) {
    out.push({
      toolSpec: {
        name: t.name,
        // Converse refuses an empty description; absent is fine.
        ...(t.description ? { description: t.description } : {}),
        inputSchema: { json: t.inputSchema as Document },
      },
    })
    if (t.cache && caching) out.push({ cachePoint: cachePoint(t.cache) })
  }
  return out
}

function jsonToolSpec(output: NonNullable<ChatCall['output']>): Tool {
  const description = output.description
    ? `Give your final answer by calling this tool. ${output.description}`
    : 'Give your final answer by calling this tool: its input is your answer, as a JSON object.'
  return {
    toolSpec: {
      name: output.name,
      description,
      inputSchema: { json: (output.schema ?? { type: 'object' }) as Document },
    },
  }
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

interface ToolPlan {
  toolConfig?: ConverseCommandInput['toolConfig']
  /** A system instruction to append (tools present only for the sake of the history). */
  instruction?: string
}

function planTools(call: ChatCall, caching: boolean): ToolPlan {
  const userTools = call.tools ?? []
  const choice = call.toolChoice ?? { type: 'auto' }
  const json = call.output
  const historyTools = historyToolNames(call.messages)
  const names = userTools.map((t) => t.name)

  if (userTools.length > 0 && choice.type !== 'none') {
    const tools = toolSpecs(userTools, caching)
    let toolChoice: ConverseToolChoice
    if (choice.type === 'tool') toolChoice = { tool: { name: choice.name } }
    else if (choice.type === 'any') toolChoice = { any: {} }
    else if (json) {
      // Tools + JSON output: the model must either call one of the client's tools or answer
      // through the JSON tool, so a textual answer can never bypass the schema.
      tools.push(jsonToolSpec(json))
      toolChoice = { any: {} }
    } else toolChoice = { auto: {} }
    return { toolConfig: { tools, toolChoice } }
  }

  // No callable tools (tool_choice none, or none given).
  const tools: Tool[] = []
  let instruction: string | undefined
  if (historyTools.length > 0) {
    // Converse rejects toolUse/toolResult blocks without a toolConfig, so the specs must stay:
    // the client's own when given, else stand-ins named after the calls in the history.
    if (userTools.length > 0) {
      tools.push(...toolSpecs(userTools, caching))
      for (const name of historyTools) {
        if (!names.includes(name)) tools.push(standInSpec(name))
      }
    } else tools.push(...historyTools.map(standInSpec))
    instruction = noToolsInstruction(tools.flatMap((t) => (t.toolSpec?.name ? [t.toolSpec.name] : [])))
  }
  if (json) {
    tools.push(jsonToolSpec(json))
    return { toolConfig: { tools, toolChoice: { tool: { name: json.name } } }, instruction }
  }
  if (tools.length === 0) return {}
  return { toolConfig: { tools, toolChoice: { auto: {} } }, instruction }
}

// ---------------------------------------------------------------------------------------------

/**
 * Encodes a neutral chat call as a Bedrock Converse (or ConverseStream — the input shapes are
 * the same) request.
 *
 * Spec: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 *
 * @throws ApiError 400 for content Converse cannot take (unknown image/document types).
 */
export function toConverseInput(call: ChatCall, opts: { keyId: string }): ConverseCommandInput {
  const { model } = call
  const enc: Encoder = { caching: model.capabilities.promptCaching === true, docNames: new Set() }
  const systemAllowed = model.capabilities.systemPrompt !== false

  const system: SystemContentBlock[] = []
  const folded: string[] = []
  for (const b of call.system) {
    if (isBlank(b.text)) continue
    if (!systemAllowed) {
      folded.push(b.text)
      continue
    }
    system.push({ text: b.text })
    if (b.cache && enc.caching) system.push({ cachePoint: cachePoint(b.cache) })
  }

  const messages: Message[] = []
  for (const m of call.messages) {
    const blocks = contentBlocks(m.content, enc)
    if (blocks.length === 0) continue
    const last = messages[messages.length - 1]
    // Converse requires alternating roles: consecutive same-role messages become one turn.
    if (last && last.role === m.role) last.content!.push(...blocks)
    else messages.push({ role: m.role, content: blocks })
  }
  if (messages.length === 0 || messages[0].role !== 'user') {
    throw badRequest('The conversation must start with a user message.', 'messages', 'invalid_message_order')
  }
  if (folded.length > 0) {
    // Models without a system prompt get the instructions at the top of the first user turn.
    messages[0].content!.unshift({ text: folded.join('\n\n') })
  }
  const last = messages[messages.length - 1]
  if (last.role === 'assistant') {
    // Assistant prefill: Anthropic rejects a final assistant turn ending in whitespace.
    const lastText = [...last.content!].reverse().find((b) => typeof b.text === 'string')
    if (lastText && lastText.text !== undefined) (lastText as { text: string }).text = lastText.text.trimEnd()
  }

  const tools = planTools(call, enc.caching)
  if (tools.instruction) {
    if (systemAllowed) system.push({ text: tools.instruction })
    else messages[0].content!.unshift({ text: tools.instruction })
  }

  const inference: InferenceConfiguration = {}
  if (call.maxTokens != null) inference.maxTokens = call.maxTokens
  if (call.temperature != null) inference.temperature = call.temperature
  if (call.topP != null) inference.topP = call.topP
  if (call.stop && call.stop.length > 0) inference.stopSequences = call.stop

  const additional: Record<string, Document> = {}
  if (call.topK != null) additional.top_k = call.topK
  if (call.reasoning && 'budgetTokens' in call.reasoning)
    additional.thinking = { type: 'enabled', budget_tokens: call.reasoning.budgetTokens }
  else if (call.reasoning) additional.reasoning_effort = call.reasoning.effort

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
