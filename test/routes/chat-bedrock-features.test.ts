/**
 * Issue 3's chat mappings end to end: openai client → gateway → real Bedrock SDK → Bedrock
 * wire-protocol server. Each test asserts both what the client gets back and what went over
 * the wire to Bedrock (`gw.bedrock.calls[n].body`, the Converse JSON the SDK sent).
 */
import t from 'tap'
import type { ChatCompletionChunk, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions'
import { startGateway } from '../helpers/app.js'
import {
  converseTextResponse,
  converseToolUseResponse,
  textStreamFrames,
  toolUseStreamFrames,
  type BedrockHandler,
  type StreamFrame,
} from '../helpers/bedrock-server.js'
import { PNG_B64 } from '../fixtures/bedrock.js'
import { apiError } from '../helpers/api-error.js'

let handler: BedrockHandler = () => ({ json: converseTextResponse('unused') })
const gw = await startGateway(t, { bedrockHandler: (call) => handler(call) })
const client = gw.openai()
const keyId = gw.key.split('-')[1]
/** The secret part of the key (it may itself contain '-'). */
const secret = gw.key.slice(`pw-${keyId}-`.length)

type Params = ChatCompletionCreateParamsNonStreaming
const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
}
const time = {
  type: 'function' as const,
  function: { name: 'get_time', parameters: { type: 'object', properties: {} } },
}
const q = (content = 'q') => [{ role: 'user' as const, content }]

const lastCall = () => gw.bedrock.calls.at(-1)!
async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = []
  for await (const c of stream) out.push(c)
  return out
}
const contentOf = (chunks: ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')
const finishOf = (chunks: ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)
/** Non-OpenAI fields (reasoning_content) are read off the raw objects. */
const extra = (x: object) => x as { reasoning_content?: string }

t.test('tool_choice auto / required / named / none → Converse toolChoice', async (t) => {
  handler = () => ({ json: converseTextResponse('ok') })
  const cases: Array<[Params['tool_choice'] | undefined, object | undefined]> = [
    [undefined, { auto: {} }],
    ['auto', { auto: {} }],
    ['required', { any: {} }],
    [{ type: 'function', function: { name: 'get_time' } }, { tool: { name: 'get_time' } }],
    ['none', undefined],
  ]
  for (const [choice, expected] of cases) {
    await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: q(),
      tools: [weather, time],
      ...(choice ? { tool_choice: choice } : {}),
    })
    const body = lastCall().body
    if (expected) {
      t.same(body.toolConfig.toolChoice, expected, `tool_choice ${JSON.stringify(choice)}`)
      t.same(
        body.toolConfig.tools,
        [
          {
            toolSpec: {
              name: 'get_weather',
              description: 'Weather for a city',
              inputSchema: { json: weather.function.parameters },
            },
          },
          { toolSpec: { name: 'get_time', inputSchema: { json: { type: 'object', properties: {} } } } },
        ],
        'function tools → toolSpec; no empty description',
      )
    } else t.notOk(body.toolConfig, 'tool_choice none with no tool history: no toolConfig at all')
  }

  const unknown = await apiError(
    client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: q(),
      tools: [weather],
      tool_choice: { type: 'function', function: { name: 'nope' } },
    }),
  )
  t.match(unknown, { status: 400, param: 'tool_choice' })
  const required = await apiError(
    client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: q(), tool_choice: 'required' }),
  )
  t.match(required, { status: 400, param: 'tool_choice' })
  const noTools = await apiError(
    client.chat.completions.create({ model: 'deepseek-r1', messages: q(), tools: [weather] }),
  )
  t.match(noTools, { status: 400, param: 'tools', code: 'tools_not_supported' })
})

t.test('tool calls come back as tool_calls, finish_reason tool_calls', async (t) => {
  handler = () => ({
    json: converseToolUseResponse(
      [
        { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Oslo' } },
        { toolUseId: 'tooluse_2', name: 'get_time', input: {} },
      ],
      { text: 'Let me check.' },
    ),
  })
  const res = await client.chat.completions.create({
    model: 'claude-sonnet-4-5',
    messages: q(),
    tools: [weather, time],
  })
  const msg = res.choices[0].message
  t.equal(res.choices[0].finish_reason, 'tool_calls')
  t.equal(msg.content, 'Let me check.')
  t.same(msg.tool_calls, [
    { id: 'tooluse_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
    { id: 'tooluse_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
  ])

  const single = await client.chat.completions.create({
    model: 'claude-sonnet-4-5',
    messages: q(),
    tools: [weather, time],
    parallel_tool_calls: false,
  })
  t.equal(single.choices[0].message.tool_calls!.length, 1, 'parallel_tool_calls false: first call only')
})

t.test('assistant tool_calls → toolUse; tool results → one user turn of toolResults', async (t) => {
  handler = () => ({ json: converseTextResponse('Oslo: 3°C, 09:00.') })
  const res = await client.chat.completions.create({
    model: 'claude-sonnet-4-5',
    tools: [weather, time],
    messages: [
      { role: 'user', content: 'Weather and time in Oslo?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '3°C' },
      { role: 'tool', tool_call_id: 'call_b', content: [{ type: 'text', text: '09:00' }] },
    ],
  })
  t.equal(res.choices[0].message.content, 'Oslo: 3°C, 09:00.')
  t.same(lastCall().body.messages, [
    { role: 'user', content: [{ text: 'Weather and time in Oslo?' }] },
    {
      role: 'assistant',
      content: [
        { text: 'Checking.' },
        { toolUse: { toolUseId: 'call_a', name: 'get_weather', input: { city: 'Oslo' } } },
        { toolUse: { toolUseId: 'call_b', name: 'get_time', input: {} } },
      ],
    },
    {
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'call_a', content: [{ text: '3°C' }] } },
        { toolResult: { toolUseId: 'call_b', content: [{ text: '09:00' }] } },
      ],
    },
  ])

  const missing = await apiError(
    client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      tools: [weather],
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
        },
        { role: 'user', content: 'y' },
      ],
    }),
  )
  t.match(missing, { status: 400, code: 'missing_tool_result', param: 'messages[1].tool_calls' })
  const badArgs = await apiError(
    client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      tools: [weather],
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{oops' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'r' },
      ],
    }),
  )
  t.match(badArgs, { status: 400, param: 'messages[1].tool_calls[0].function.arguments' })
})

t.test('tool_choice none with tool calls in the history: valid toolConfig, stray calls dropped', async (t) => {
  const history: Params['messages'] = [
    { role: 'user', content: 'Weather in Oslo?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
    },
    { role: 'tool', tool_call_id: 'c1', content: '3°C' },
  ]
  // The model calls a tool anyway: the client must not see it (nor be told to run tools).
  handler = () => ({
    json: converseToolUseResponse([{ toolUseId: 't9', name: 'get_weather', input: { city: 'Bergen' } }], {
      text: 'It is 3°C.',
    }),
  })
  const res = await client.chat.completions.create({
    model: 'claude-sonnet-4-5',
    messages: history,
    tools: [weather],
    tool_choice: 'none',
  })
  t.equal(res.choices[0].message.content, 'It is 3°C.')
  t.notOk(res.choices[0].message.tool_calls)
  t.equal(res.choices[0].finish_reason, 'stop')
  const body = lastCall().body
  t.same(body.toolConfig.toolChoice, { auto: {} }, 'Converse needs a toolConfig for toolUse blocks in the history')
  t.same(
    body.toolConfig.tools.map((x: { toolSpec: { name: string } }) => x.toolSpec.name),
    ['get_weather'],
  )
  t.match(body.system.at(-1).text, /Do not call any of these tools: get_weather/)

  // Without the tool list, stand-ins named after the calls in the history.
  handler = () => ({ json: converseTextResponse('3°C.') })
  await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: history })
  t.same(
    lastCall().body.toolConfig.tools.map((x: { toolSpec: { name: string } }) => x.toolSpec.name),
    ['get_weather'],
  )

  handler = () => ({
    frames: toolUseStreamFrames([{ toolUseId: 't9', name: 'get_weather', input: { city: 'Bergen' } }], {
      text: ['It is ', '3°C.'],
    }),
  })
  const chunks = await collect(
    await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: history,
      tools: [weather],
      tool_choice: 'none',
      stream: true,
    }),
  )
  t.equal(contentOf(chunks), 'It is 3°C.')
  t.notOk(
    chunks.some((c) => c.choices[0]?.delta.tool_calls),
    'no tool-call deltas',
  )
  t.same(finishOf(chunks), ['stop'])
})

t.test('streaming parallel tool calls: indexes from 0, id+name first, argument fragments after', async (t) => {
  handler = () => ({
    frames: toolUseStreamFrames(
      [
        { toolUseId: 'tooluse_a', name: 'get_weather', input: { city: 'Oslo' } },
        { toolUseId: 'tooluse_b', name: 'get_weather', input: { city: 'Rome' } },
        { toolUseId: 'tooluse_c', name: 'get_time', input: {} },
      ],
      { text: ['Checking ', 'all.'], usage: { inputTokens: 40, outputTokens: 30 } },
    ),
  })
  const stream = await client.chat.completions.create({
    model: 'claude-sonnet-4-5',
    messages: q(),
    tools: [weather, time],
    stream: true,
    stream_options: { include_usage: true },
  })
  const chunks = await collect(stream)
  t.same(chunks[0].choices[0].delta, { role: 'assistant', content: '' }, 'role chunk first')
  t.equal(contentOf(chunks), 'Checking all.')

  const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
  const firsts = toolDeltas.filter((d) => d.id)
  t.same(
    firsts,
    [
      { index: 0, id: 'tooluse_a', type: 'function', function: { name: 'get_weather', arguments: '' } },
      { index: 1, id: 'tooluse_b', type: 'function', function: { name: 'get_weather', arguments: '' } },
      { index: 2, id: 'tooluse_c', type: 'function', function: { name: 'get_time', arguments: '' } },
    ],
    'our indexes count from 0 although Bedrock block indexes start after the text block',
  )
  for (const index of [0, 1, 2]) {
    const mine = toolDeltas.filter((d) => d.index === index)
    t.ok(mine[0].id, `call ${index}: the first delta carries id and name`)
    t.ok(
      mine.slice(1).every((d) => !d.id && !d.function?.name && d.function?.arguments),
      `call ${index}: later deltas carry only argument fragments`,
    )
    t.ok(mine.length >= 3, `call ${index}: arguments arrive in several fragments`)
  }
  const args = [0, 1, 2].map((i) =>
    toolDeltas
      .filter((d) => d.index === i)
      .map((d) => d.function!.arguments)
      .join(''),
  )
  t.same(
    args.map((a) => JSON.parse(a)),
    [{ city: 'Oslo' }, { city: 'Rome' }, {}],
  )
  t.same(finishOf(chunks), ['tool_calls'])
  t.same(chunks.at(-1)!.usage, {
    prompt_tokens: 40,
    completion_tokens: 30,
    total_tokens: 70,
    prompt_tokens_details: { cached_tokens: 0 },
  })

  // The SDK's own accumulator agrees.
  handler = () => ({
    frames: toolUseStreamFrames([
      { toolUseId: 'x1', name: 'get_weather', input: { city: 'Oslo' } },
      { toolUseId: 'x2', name: 'get_time', input: {} },
    ]),
  })
  const final = await client.chat.completions
    .stream({ model: 'claude-sonnet-4-5', messages: q(), tools: [weather, time] })
    .finalChatCompletion()
  t.same(
    final.choices[0].message.tool_calls!.map((c) => [c.id, c.function.name, JSON.parse(c.function.arguments)]),
    [
      ['x1', 'get_weather', { city: 'Oslo' }],
      ['x2', 'get_time', {}],
    ],
  )
  t.equal(final.choices[0].finish_reason, 'tool_calls')
  t.equal(lastCall().operation, 'converse-stream')

  // Bedrock's real shape for a tool without arguments: contentBlockStart, one "" fragment, stop.
  handler = () => ({
    frames: [
      { event: 'messageStart', data: { role: 'assistant' } },
      {
        event: 'contentBlockStart',
        data: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tu_time', name: 'get_time' } } },
      },
      { event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { toolUse: { input: '' } } } },
      { event: 'contentBlockStop', data: { contentBlockIndex: 0 } },
      { event: 'messageStop', data: { stopReason: 'tool_use' } },
      {
        event: 'metadata',
        data: { usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 }, metrics: { latencyMs: 1 } },
      },
    ],
  })
  const noArgs = await client.chat.completions
    .stream({ model: 'claude-sonnet-4-5', messages: q(), tools: [time] })
    .finalChatCompletion()
  t.match(
    noArgs.choices[0].message.tool_calls,
    [{ id: 'tu_time', function: { name: 'get_time', arguments: '{}' } }],
    'a tool without arguments streams "{}" (regression)',
  )

  handler = () => ({
    frames: toolUseStreamFrames([
      { toolUseId: 'p1', name: 'get_weather', input: { city: 'A' } },
      { toolUseId: 'p2', name: 'get_weather', input: { city: 'B' } },
    ]),
  })
  const one = await collect(
    await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: q(),
      tools: [weather],
      stream: true,
      parallel_tool_calls: false,
    }),
  )
  t.same(
    one
      .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
      .filter((d) => d.id)
      .map((d) => d.id),
    ['p1'],
    'parallel_tool_calls false: first call only',
  )
})

t.test('vision: data URL → image block bytes; http URL and non-vision models → 400', async (t) => {
  handler = (call) =>
    call.operation === 'converse-stream'
      ? { frames: textStreamFrames(['A pixel.']) }
      : { json: converseTextResponse('A pixel.') }
  const image = (url: string) => [
    {
      role: 'user' as const,
      content: [
        { type: 'text' as const, text: 'What is this?' },
        { type: 'image_url' as const, image_url: { url, detail: 'high' as const } },
      ],
    },
  ]
  const res = await client.chat.completions.create({
    model: 'claude-sonnet-4-5',
    messages: image(`data:image/png;base64,${PNG_B64}`),
  })
  t.equal(res.choices[0].message.content, 'A pixel.')
  t.same(
    lastCall().body.messages[0].content,
    [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: PNG_B64 } } }],
    'the image bytes go upstream unchanged (blobs are base64 in the JSON protocol)',
  )
  t.same(
    Buffer.from(lastCall().body.messages[0].content[1].image.source.bytes, 'base64'),
    Buffer.from(PNG_B64, 'base64'),
  )

  await client.chat.completions
    .create({ model: 'nova-lite', messages: image(`data:image/jpeg;base64,${PNG_B64}`), stream: true })
    .then(collect)
  t.equal(lastCall().body.messages[0].content[1].image.format, 'jpeg', 'streamed too; format from the media type')

  const calls = gw.bedrock.calls.length
  const remote = await apiError(
    client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: image('https://example.com/cat.png') }),
  )
  t.match(remote, { status: 400, code: 'image_url_not_supported', param: 'messages[0].content[1]' })
  t.match(remote.message, /base64 data URL/)
  const noVision = await apiError(
    client.chat.completions.create({ model: 'claude-3-5-haiku', messages: image(`data:image/png;base64,${PNG_B64}`) }),
  )
  t.match(noVision, { status: 400, code: 'model_not_vision_capable', param: 'messages[0].content[1]' })
  const noVisionStream = await apiError(
    client.chat.completions.create({
      model: 'llama3-3-70b',
      messages: image(`data:image/png;base64,${PNG_B64}`),
      stream: true,
    }),
  )
  t.match(noVisionStream, { status: 400, code: 'model_not_vision_capable' }, 'a real 400 before any SSE')
  const badType = await apiError(
    client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: image(`data:image/bmp;base64,${PNG_B64}`) }),
  )
  t.match(badType, { status: 400, code: 'invalid_image_format' })
  t.equal(gw.bedrock.calls.length, calls, 'refused requests never reach Bedrock')
})

const thinkingFrames = (): StreamFrame[] => [
  { event: 'messageStart', data: { role: 'assistant' } },
  {
    event: 'contentBlockDelta',
    data: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'The user wants ' } } },
  },
  { event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'the answer.' } } } },
  {
    event: 'contentBlockDelta',
    data: { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'c2lnbmF0dXJl' } } },
  },
  { event: 'contentBlockStop', data: { contentBlockIndex: 0 } },
  { event: 'contentBlockDelta', data: { contentBlockIndex: 1, delta: { text: 'Forty' } } },
  { event: 'contentBlockDelta', data: { contentBlockIndex: 1, delta: { text: '-two.' } } },
  { event: 'contentBlockStop', data: { contentBlockIndex: 1 } },
  { event: 'messageStop', data: { stopReason: 'end_turn' } },
  {
    event: 'metadata',
    data: { usage: { inputTokens: 20, outputTokens: 60, totalTokens: 80 }, metrics: { latencyMs: 5 } },
  },
]

t.test('reasoning_effort on Claude: thinking budget upstream, reasoning_content back (never in content)', async (t) => {
  handler = () => ({
    json: {
      output: {
        message: {
          role: 'assistant',
          content: [
            { reasoningContent: { reasoningText: { text: 'The user wants the answer.', signature: 'c2ln' } } },
            { text: 'Forty-two.' },
          ],
        },
      },
      stopReason: 'end_turn',
      usage: { inputTokens: 20, outputTokens: 60, totalTokens: 80 },
      metrics: { latencyMs: 5 },
    },
  })
  const res = await client.chat.completions.create({
    model: 'claude-sonnet-4-5',
    messages: q('Answer?'),
    reasoning_effort: 'medium',
  })
  const msg = res.choices[0].message
  t.equal(msg.content, 'Forty-two.')
  t.equal(extra(msg).reasoning_content, 'The user wants the answer.')
  const body = lastCall().body
  t.same(body.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 8192 } })
  t.equal(body.inferenceConfig.maxTokens, 8192 + 8192, 'room for the answer above the budget')

  const budgets: Array<['low' | 'high' | 'minimal', number]> = [
    ['minimal', 1024],
    ['low', 2048],
    ['high', 24576],
  ]
  for (const [effort, budget] of budgets) {
    await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: q(), reasoning_effort: effort })
    t.equal(lastCall().body.additionalModelRequestFields.thinking.budget_tokens, budget, effort)
  }
  await client.chat.completions.create({
    model: 'claude-sonnet-4-5',
    messages: q(),
    reasoning_effort: 'low',
    max_completion_tokens: 1000,
  })
  t.same(
    [lastCall().body.inferenceConfig.maxTokens, lastCall().body.additionalModelRequestFields.thinking.budget_tokens],
    [3048, 2048],
    'a client max below the budget bounds the answer: maxTokens = budget + max',
  )

  handler = () => ({ frames: thinkingFrames() })
  const chunks = await collect(
    await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: q('Answer?'),
      reasoning_effort: 'high',
      stream: true,
    }),
  )
  t.equal(
    chunks.map((c) => extra(c.choices[0]?.delta ?? {}).reasoning_content ?? '').join(''),
    'The user wants the answer.',
  )
  t.equal(contentOf(chunks), 'Forty-two.', 'reasoning never leaks into content')
  t.notOk(JSON.stringify(chunks).includes('c2lnbmF0dXJl'), 'signatures are not forwarded')
  t.same(finishOf(chunks), ['stop'])
  t.equal(lastCall().body.additionalModelRequestFields.thinking.budget_tokens, 24576)

  const hot = await apiError(
    client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: q(),
      reasoning_effort: 'low',
      temperature: 0.3,
    }),
  )
  t.match(hot, { status: 400, param: 'temperature' })
  const forced = await apiError(
    client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: q(),
      reasoning_effort: 'low',
      tools: [weather],
      tool_choice: 'required',
    }),
  )
  t.match(forced, { status: 400, param: 'reasoning_effort' })
  const none = await apiError(
    client.chat.completions.create({ model: 'nova-pro', messages: q(), reasoning_effort: 'low' }),
  )
  t.match(none, { status: 400, param: 'reasoning_effort', code: 'unsupported_parameter' })

  handler = () => ({ json: converseTextResponse('ok') })
  await client.chat.completions.create({ model: 'gpt-oss-120b', messages: q(), reasoning_effort: 'minimal' })
  t.same(
    lastCall().body.additionalModelRequestFields,
    { reasoning_effort: 'low' },
    'gpt-oss: effort passed through, minimal → low',
  )
  await client.chat.completions.create({ model: 'deepseek-r1', messages: q(), reasoning_effort: 'high' })
  t.notOk(lastCall().body.additionalModelRequestFields, 'always-reasoning models: ignored')
})

t.test('JSON output: json_object / json_schema → forced tool, content is the JSON string', async (t) => {
  handler = () => ({
    json: converseToolUseResponse([{ toolUseId: 'j1', name: 'json_response', input: { answer: 42 } }]),
  })
  const obj = await client.chat.completions.create({
    model: 'claude-haiku-4-5',
    messages: q('JSON please'),
    response_format: { type: 'json_object' },
  })
  t.equal(typeof obj.choices[0].message.content, 'string')
  t.same(JSON.parse(obj.choices[0].message.content!), { answer: 42 })
  t.notOk(obj.choices[0].message.tool_calls, 'the forced tool is not a tool call for the client')
  t.equal(obj.choices[0].finish_reason, 'stop')
  t.same(lastCall().body.toolConfig.toolChoice, { tool: { name: 'json_response' } })
  t.same(lastCall().body.toolConfig.tools[0].toolSpec.inputSchema, { json: { type: 'object' } })

  const schema = {
    type: 'object',
    properties: { name: { type: 'string' }, age: { type: 'integer' } },
    required: ['name', 'age'],
    additionalProperties: false,
  }
  handler = () => ({
    json: converseToolUseResponse([{ toolUseId: 'j2', name: 'person', input: { name: 'Ada', age: 36 } }], {
      text: 'Here it is:',
    }),
  })
  const typed = await client.chat.completions.create({
    model: 'claude-haiku-4-5',
    messages: q('Who?'),
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'person', description: 'A person', schema, strict: true },
    },
  })
  t.same(
    JSON.parse(typed.choices[0].message.content!),
    { name: 'Ada', age: 36 },
    'prose around the JSON is dropped so the content parses',
  )
  const spec = lastCall().body.toolConfig.tools[0].toolSpec
  t.equal(spec.name, 'person')
  t.same(spec.inputSchema.json, schema, 'the schema is the tool input schema')
  t.match(spec.description, /A person/)
  t.same(lastCall().body.toolConfig.toolChoice, { tool: { name: 'person' } })

  handler = () => ({
    frames: toolUseStreamFrames([{ toolUseId: 'j3', name: 'person', input: { name: 'Ada', age: 36 } }]),
  })
  const chunks = await collect(
    await client.chat.completions.create({
      model: 'claude-haiku-4-5',
      messages: q('Who?'),
      stream: true,
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema } },
    }),
  )
  const contentDeltas = chunks.map((c) => c.choices[0]?.delta.content).filter((x) => x)
  t.ok(contentDeltas.length >= 2, `streamed as several content deltas (${contentDeltas.length})`)
  t.same(JSON.parse(contentOf(chunks)), { name: 'Ada', age: 36 })
  t.notOk(
    chunks.some((c) => c.choices[0]?.delta.tool_calls),
    'no tool-call deltas',
  )
  t.same(finishOf(chunks), ['stop'])

  // JSON + the client's tools: a real tool call stays a tool call.
  handler = () => ({
    json: converseToolUseResponse([{ toolUseId: 'w1', name: 'get_weather', input: { city: 'Oslo' } }]),
  })
  const both = await client.chat.completions.create({
    model: 'claude-haiku-4-5',
    messages: q(),
    tools: [weather],
    response_format: { type: 'json_object' },
  })
  t.equal(both.choices[0].finish_reason, 'tool_calls')
  t.match(both.choices[0].message.tool_calls, [{ id: 'w1', function: { name: 'get_weather' } }])
  t.same(lastCall().body.toolConfig.toolChoice, { any: {} })
  t.same(
    lastCall().body.toolConfig.tools.map((x: { toolSpec: { name: string } }) => x.toolSpec.name),
    ['get_weather', 'json_response'],
  )
})

t.test('prompt caching: cache_control → cachePoint; cached_tokens; cache read/write metered apart', async (t) => {
  const usage = { inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 1000, cacheWriteInputTokens: 200 }
  handler = () => ({ json: converseTextResponse('cached', { usage }) })
  const cc = { cache_control: { type: 'ephemeral' } }
  const params = {
    model: 'claude-sonnet-4-5',
    tools: [{ ...weather, ...cc }, time],
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'Long rules.', ...cc }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'A long document.', cache_control: { type: 'ephemeral', ttl: '1h' } },
          { type: 'text', text: 'Question?' },
        ],
      },
      { role: 'assistant', content: 'Answer.', ...cc },
      { role: 'user', content: 'Follow-up.' },
    ],
  } as unknown as Params
  const before = gw.usage.events.length
  const res = await client.chat.completions.create(params)
  const body = lastCall().body
  t.same(body.system, [{ text: 'Long rules.' }, { cachePoint: { type: 'default' } }])
  t.same(body.messages[0].content, [
    { text: 'A long document.' },
    { cachePoint: { type: 'default', ttl: '1h' } },
    { text: 'Question?' },
  ])
  t.same(
    body.messages[1].content,
    [{ text: 'Answer.' }, { cachePoint: { type: 'default' } }],
    'message-level cache_control',
  )
  t.same(
    body.toolConfig.tools.map((x: object) => Object.keys(x)[0]),
    ['toolSpec', 'cachePoint', 'toolSpec'],
    'after the tool that carries it',
  )
  t.same(res.usage, {
    prompt_tokens: 1210,
    completion_tokens: 5,
    total_tokens: 1215,
    prompt_tokens_details: { cached_tokens: 1000 },
  })
  t.equal(gw.usage.events.length, before + 1, 'metered once')
  const metered = gw.usage.events.at(-1)!
  t.same(metered.tokens, { inputTokens: 10, outputTokens: 5, cacheReadTokens: 1000, cacheWriteTokens: 200 })
  // claude-sonnet-4-5: $3 in, $15 out, $0.30 cache read, $3.75 cache write per 1M tokens.
  t.equal(metered.costMicroUsd, Math.round(10 * 3.3 + 5 * 16.5 + 1000 * 0.33 + 200 * 4.125))

  handler = () => ({ frames: textStreamFrames(['cac', 'hed'], { usage }) })
  const chunks = await collect(
    await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }),
  )
  t.same(chunks.at(-1)!.usage, res.usage, 'the same usage on the stream')
  t.same(gw.usage.events.at(-1)!.tokens, metered.tokens)
  t.equal(gw.usage.events.length, before + 2)

  handler = () => ({ json: converseTextResponse('x') })
  await client.chat.completions.create({ ...params, model: 'llama3-3-70b' })
  t.notOk(
    JSON.stringify(lastCall().body).includes('cachePoint'),
    'models without prompt caching: cache_control ignored',
  )
})

t.test('requestMetadata carries the key id and never the key', async (t) => {
  handler = (call) =>
    call.operation === 'converse-stream' ? { frames: textStreamFrames(['a']) } : { json: converseTextResponse('a') }
  await client.chat.completions.create({ model: 'claude-haiku-4-5', messages: q(), user: 'end-user-7' })
  await client.chat.completions.create({ model: 'claude-haiku-4-5', messages: q(), stream: true }).then(collect)
  for (const call of gw.bedrock.calls.slice(-2)) {
    t.same(call.body.requestMetadata, { keyId }, `${call.operation}: only the key id`)
    const wire = JSON.stringify(call.body) + JSON.stringify(call.headers)
    t.notOk(wire.includes(gw.key), `${call.operation}: the key is not in the body or headers`)
    t.notOk(wire.includes(secret), `${call.operation}: nor its secret`)
  }
  t.notOk(JSON.stringify(gw.bedrock.calls.at(-2)!.body).includes('end-user-7'), '`user` is not forwarded')
})

t.test('refused parameters → 400 naming them, streaming or not, before any upstream call', async (t) => {
  const refused: Array<[string, Partial<Params>]> = [
    ['logprobs', { logprobs: true }],
    ['top_logprobs', { top_logprobs: 3 }],
    ['n', { n: 2 }],
    ['presence_penalty', { presence_penalty: 0.5 }],
    ['frequency_penalty', { frequency_penalty: -1 }],
    ['logit_bias', { logit_bias: { '50256': -100 } }],
  ]
  const calls = gw.bedrock.calls.length
  for (const [param, extraParams] of refused) {
    for (const stream of [false, true]) {
      const err = await apiError(
        client.chat.completions.create({ model: 'claude-haiku-4-5', messages: q(), ...extraParams, stream } as Params),
      )
      t.match(
        err,
        { status: 400, param, code: 'unsupported_parameter', type: 'invalid_request_error' },
        `${param} stream=${stream}`,
      )
    }
  }
  t.equal(gw.bedrock.calls.length, calls, 'nothing went upstream')

  handler = () => ({ json: converseTextResponse('fine') })
  const neutral = await client.chat.completions.create({
    model: 'claude-haiku-4-5',
    messages: q(),
    n: 1,
    logprobs: false,
    top_logprobs: 0,
    presence_penalty: 0,
    frequency_penalty: 0,
    logit_bias: {},
    seed: 7,
    user: 'u',
  })
  t.equal(neutral.choices[0].message.content, 'fine', 'neutral values and ignored parameters are accepted')
  t.notOk(JSON.stringify(lastCall().body).includes('"seed"'), 'seed is not sent')

  const tooMany = await apiError(
    client.chat.completions.create({ model: 'claude-3-5-haiku', messages: q(), max_tokens: 100_000 }),
  )
  t.match(tooMany, { status: 400, param: 'max_tokens', code: 'max_tokens_too_large' })
})
