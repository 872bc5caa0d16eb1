/**
 * The OpenAI Responses door end to end: the official `openai` client (v6) → gateway → real
 * Bedrock SDK → Bedrock wire-protocol server, with stored responses in the embedded DynamoDB-API
 * store. What goes upstream (Converse), what comes back (Responses objects and events), stored
 * chains, every error status, mid-stream errors and aborts.
 */
import t from 'tap'
import type OpenAI from 'openai'
import type { ResponseStreamEvent } from 'openai/resources/responses/responses'
import { startGateway } from '../helpers/app.js'
import { apiError } from '../helpers/api-error.js'
import {
  converseTextResponse,
  converseToolUseResponse,
  lastUserText,
  textStreamFrames,
  toolUseStreamFrames,
  type BedrockHandler,
  type StreamFrame,
} from '../helpers/bedrock-server.js'
import { PNG_B64 } from '../fixtures/bedrock.js'

let handler: BedrockHandler = () => ({ json: converseTextResponse('unused') })
const gw = await startGateway(t, { bedrockHandler: (call) => handler(call) })
const client = gw.openai()
const last = () => gw.bedrock.calls.at(-1)!
const HAIKU = 'claude-haiku-4-5'

t.test('create with string input: Converse request, response object, usage, metering', async (t) => {
  handler = () => ({
    json: converseTextResponse('Bonjour!', {
      usage: { inputTokens: 12, outputTokens: 3, cacheReadInputTokens: 100, cacheWriteInputTokens: 7 },
    }),
  })
  const res = await client.responses.create({
    model: HAIKU,
    instructions: 'Answer in French.',
    input: 'Hello',
    temperature: 0.5,
    max_output_tokens: 300,
    metadata: { run: '1' },
  })
  t.match(res.id, /^resp_[0-9a-f]{32}$/)
  t.equal(res.object, 'response')
  t.equal(res.status, 'completed')
  t.equal(res.model, HAIKU)
  t.equal(res.output_text, 'Bonjour!')
  t.equal(res.output.length, 1)
  t.match(res.output[0], {
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text: 'Bonjour!', annotations: [] }],
  })
  t.match(res.output[0].id, /^msg_/)
  t.same(
    res.usage,
    { input_tokens: 119, input_tokens_details: { cached_tokens: 100 }, output_tokens: 3, total_tokens: 122 },
    'no reasoning_tokens when unknown',
  )
  t.equal(res.incomplete_details, null)
  t.equal(res.instructions, 'Answer in French.')
  t.equal(res.temperature, 0.5)
  t.equal(res.max_output_tokens, 300)
  t.same(res.metadata, { run: '1' })
  t.match(res, { store: true })
  const call = last()
  t.equal(call.operation, 'converse')
  t.same(call.body.system, [{ text: 'Answer in French.' }])
  t.same(call.body.messages, [{ role: 'user', content: [{ text: 'Hello' }] }])
  t.same(call.body.inferenceConfig, { maxTokens: 300, temperature: 0.5 })
  const metered = gw.usage.events.at(-1)!
  t.equal(metered.modelId, HAIKU)
  t.same(metered.tokens, { inputTokens: 12, outputTokens: 3, cacheReadTokens: 100, cacheWriteTokens: 7 })
})

t.test('create with item input: developer/system, user parts with an image, assistant output_text', async (t) => {
  handler = () => ({ json: converseTextResponse('A red dot.') })
  const res = await client.responses.create({
    model: 'claude-sonnet-4-5',
    input: [
      { role: 'developer', content: 'Be brief.' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] },
      {
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Hello.', annotations: [] }],
        id: 'msg_x',
        status: 'completed',
      },
      {
        role: 'user',
        content: [
          { type: 'input_text', text: 'What is this?' },
          { type: 'input_image', image_url: `data:image/png;base64,${PNG_B64}`, detail: 'auto' },
        ],
      },
    ],
  })
  t.equal(res.output_text, 'A red dot.')
  const body = last().body
  t.same(body.system, [{ text: 'Be brief.' }])
  t.equal(body.messages.length, 3)
  t.same(body.messages[1], { role: 'assistant', content: [{ text: 'Hello.' }] })
  t.equal(body.messages[2].content[1].image.format, 'png')
})

t.test('stream: event order, increasing sequence numbers, deltas = final text', async (t) => {
  handler = () => ({
    frames: textStreamFrames(['Hel', 'lo ', 'world'], { delayMs: 20, usage: { inputTokens: 5, outputTokens: 3 } }),
  })
  const stream = await client.responses.create({ model: HAIKU, input: 'q', stream: true })
  const events: ResponseStreamEvent[] = []
  for await (const e of stream) events.push(e)
  t.same(
    events.map((e) => e.type),
    [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ],
  )
  t.same(
    events.map((e) => e.sequence_number),
    events.map((_, i) => i),
    'sequence numbers 0, 1, 2…',
  )
  const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('')
  const done = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>
  t.equal(deltas, 'Hello world')
  t.equal(done.response.output_text, 'Hello world')
  t.equal(done.response.status, 'completed')
  t.match(done.response.usage, { input_tokens: 5, output_tokens: 3, total_tokens: 8 })
  const created = events[0] as Extract<ResponseStreamEvent, { type: 'response.created' }>
  t.equal(created.response.status, 'in_progress')
  t.equal(created.response.id, done.response.id)
  t.equal(last().operation, 'converse-stream')
  t.notOk(gw.usage.events.at(-1)!.estimated)

  // The SDK's helper stream assembles the same final response.
  handler = () => ({ frames: textStreamFrames(['a', 'b', 'c']) })
  const helper = client.responses.stream({ model: HAIKU, input: 'q' })
  let text = ''
  helper.on('response.output_text.delta', (e) => {
    text += e.delta
  })
  const final = await helper.finalResponse()
  t.equal(text, 'abc')
  t.equal(final.output_text, 'abc')
})

t.test('raw SSE framing: event + data lines, event name = type, no [DONE]', async (t) => {
  handler = () => ({ frames: textStreamFrames(['a', 'b']) })
  const res = await fetch(`${gw.url}/v1/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ model: HAIKU, input: 'x', stream: true }),
  })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/event-stream/)
  const events = (await res.text()).split('\n\n').filter(Boolean)
  for (const e of events) {
    const m = /^event: ([\w.]+)\ndata: (.*)$/s.exec(e)
    t.ok(m, `framed: ${e.slice(0, 60)}`)
    t.equal(JSON.parse(m![2]).type, m![1], 'event name = payload type')
  }
  t.match(events.at(-1), /^event: response\.completed\n/)
  t.notOk(events.some((e) => e.includes('[DONE]')))
})

const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather',
  strict: true,
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
    additionalProperties: false,
  },
}

t.test('function tool round trip via function_call_output (stateless, then chained)', async (t) => {
  handler = () => ({
    json: converseToolUseResponse([{ toolUseId: 'tooluse_AAA', name: 'get_weather', input: { city: 'Paris' } }], {
      text: 'Let me check.',
    }),
  })
  const first = await client.responses.create({
    model: 'claude-sonnet-4-5',
    input: 'Weather in Paris?',
    tools: [weatherTool],
    tool_choice: 'auto',
  })
  t.equal(first.status, 'completed')
  t.equal(first.output.length, 2)
  const call = first.output[1] as OpenAI.Responses.ResponseFunctionToolCall
  t.match(call, {
    type: 'function_call',
    call_id: 'tooluse_AAA',
    name: 'get_weather',
    arguments: '{"city":"Paris"}',
    status: 'completed',
  })
  t.match(call.id, /^fc_/)
  t.same(last().body.toolConfig, {
    tools: [
      { toolSpec: { name: 'get_weather', description: 'Weather', inputSchema: { json: weatherTool.parameters } } },
    ],
    toolChoice: { auto: {} },
  })

  // Stateless: the whole conversation sent back, the call's output after it.
  handler = () => ({ json: converseTextResponse('Sunny.') })
  const second = await client.responses.create({
    model: 'claude-sonnet-4-5',
    tools: [weatherTool],
    store: false,
    input: [
      { role: 'user', content: 'Weather in Paris?' },
      ...(first.output as OpenAI.Responses.ResponseInputItem[]),
      { type: 'function_call_output', call_id: call.call_id, output: 'Sunny, 21°C' },
    ],
  })
  t.equal(second.output_text, 'Sunny.')
  const sent = last().body.messages
  t.same(sent[1], {
    role: 'assistant',
    content: [
      { text: 'Let me check.' },
      { toolUse: { toolUseId: 'tooluse_AAA', name: 'get_weather', input: { city: 'Paris' } } },
    ],
  })
  t.same(sent[2], {
    role: 'user',
    content: [{ toolResult: { toolUseId: 'tooluse_AAA', content: [{ text: 'Sunny, 21°C' }] } }],
  })

  // Chained: only the output goes, previous_response_id brings the rest.
  await client.responses.create({
    model: 'claude-sonnet-4-5',
    tools: [weatherTool],
    previous_response_id: first.id,
    input: [{ type: 'function_call_output', call_id: call.call_id, output: 'Sunny, 21°C' }],
  })
  t.same(last().body.messages, sent, 'the same conversation upstream')

  // Streamed tool calls: argument deltas add up to the final arguments.
  handler = () => ({
    frames: toolUseStreamFrames([
      { toolUseId: 'tooluse_S1', name: 'get_weather', input: { city: 'Oslo' } },
      { toolUseId: 'tooluse_S2', name: 'get_weather', input: { city: 'Rome' } },
    ]),
  })
  const stream = client.responses.stream({ model: 'claude-sonnet-4-5', input: 'w', tools: [weatherTool] })
  const types: string[] = []
  let args = ''
  for await (const e of stream) {
    types.push(e.type)
    if (e.type === 'response.function_call_arguments.delta') args += e.delta
  }
  const final = await stream.finalResponse()
  t.same(
    final.output.map((o) => (o.type === 'function_call' ? [o.call_id, o.arguments] : o.type)),
    [
      ['tooluse_S1', '{"city":"Oslo"}'],
      ['tooluse_S2', '{"city":"Rome"}'],
    ],
  )
  t.equal(args, '{"city":"Oslo"}{"city":"Rome"}')
  t.same(types.filter((x) => x.startsWith('response.function_call_arguments.done')).length, 2)
  t.same(types.slice(2, 6), [
    'response.output_item.added',
    'response.function_call_arguments.delta',
    'response.function_call_arguments.delta',
    'response.function_call_arguments.done',
  ])

  // tool_choice: required → any, a named function → tool; parallel_tool_calls false → one call.
  handler = () => ({
    json: converseToolUseResponse([
      { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'A' } },
      { toolUseId: 'tooluse_2', name: 'get_weather', input: { city: 'B' } },
    ]),
  })
  const one = await client.responses.create({
    model: 'claude-sonnet-4-5',
    input: 'w',
    tools: [weatherTool],
    tool_choice: { type: 'function', name: 'get_weather' },
    parallel_tool_calls: false,
  })
  t.equal(one.output.length, 1)
  t.same(last().body.toolConfig.toolChoice, { tool: { name: 'get_weather' } })
  await client.responses.create({
    model: 'claude-sonnet-4-5',
    input: 'w',
    tools: [weatherTool],
    tool_choice: 'required',
  })
  t.same(last().body.toolConfig.toolChoice, { any: {} })
})

t.test('previous_response_id chains of 3 turns; store: false keeps nothing', async (t) => {
  handler = (call) => ({ json: converseTextResponse(`echo ${lastUserText(call.body)}`) })
  const r1 = await client.responses.create({ model: HAIKU, instructions: 'Only for turn 1.', input: 'one' })
  const r2 = await client.responses.create({ model: HAIKU, input: 'two', previous_response_id: r1.id })
  const r3 = await client.responses.create({
    model: HAIKU,
    input: [{ role: 'user', content: 'three' }],
    previous_response_id: r2.id,
  })
  t.equal(r3.previous_response_id, r2.id)
  const body = last().body
  t.same(body.messages, [
    { role: 'user', content: [{ text: 'one' }] },
    { role: 'assistant', content: [{ text: 'echo one' }] },
    { role: 'user', content: [{ text: 'two' }] },
    { role: 'assistant', content: [{ text: 'echo two' }] },
    { role: 'user', content: [{ text: 'three' }] },
  ])
  t.notOk(body.system, 'instructions are not carried over (as OpenAI)')
  const r4 = await client.responses.create({ model: HAIKU, input: 'four', previous_response_id: r3.id, store: false })
  t.equal(last().body.messages.length, 7)
  t.match(r4, { store: false })
  t.equal((await apiError(client.responses.retrieve(r4.id))).status, 404, 'store: false: not retrievable')
  t.equal(
    (await apiError(client.responses.create({ model: HAIKU, input: 'x', previous_response_id: r4.id }))).status,
    404,
    'nor chainable',
  )

  // Streamed turns are stored too, before their last event.
  handler = (call) =>
    call.operation === 'converse-stream'
      ? { frames: textStreamFrames([`echo ${lastUserText(call.body)}`]) }
      : { json: converseTextResponse(`echo ${lastUserText(call.body)}`) }
  const s = client.responses.stream({ model: HAIKU, input: 'five', previous_response_id: r3.id })
  const r5 = await s.finalResponse()
  const r6 = await client.responses.create({ model: HAIKU, input: 'six', previous_response_id: r5.id })
  t.equal(r6.status, 'completed')
  t.equal(last().body.messages.length, 9)
})

t.test('get / delete / input_items (paginated); another key gets 404', async (t) => {
  handler = () => ({ json: converseTextResponse('ok') })
  const res = await client.responses.create({
    model: HAIKU,
    input: [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
      { role: 'user', content: 'c' },
      { role: 'assistant', content: 'd' },
      { role: 'user', content: 'e' },
    ],
  })
  const got = await client.responses.retrieve(res.id)
  t.same(got, res, 'retrieve answers the stored response')
  const all = []
  for await (const item of client.responses.inputItems.list(res.id, { limit: 2 })) all.push(item)
  t.equal(all.length, 5)
  t.same(
    all.map((i) => (i.type === 'message' ? (i.content[0] as { text: string }).text : '')),
    ['e', 'd', 'c', 'b', 'a'],
    'newest first by default',
  )
  t.ok(
    all.every((i) => typeof i.id === 'string' && i.id.startsWith('msg_')),
    'every item has an id',
  )
  const page = await client.responses.inputItems.list(res.id, { limit: 2, order: 'asc' })
  t.same(
    page.data.map((i) => (i.type === 'message' ? (i.content[0] as { text: string }).text : '')),
    ['a', 'b'],
  )
  t.equal(page.has_more, true)
  const raw = (await (
    await fetch(`${gw.url}/v1/responses/${res.id}/input_items?order=asc&limit=2&after=${page.data[1].id}`, {
      headers: { authorization: `Bearer ${gw.key}` },
    })
  ).json()) as { data: unknown[]; first_id: string; last_id: string; has_more: boolean; object: string }
  t.equal(raw.object, 'list')
  t.equal(raw.data.length, 2)
  t.equal(raw.has_more, true)

  const { key: other } = await gw.app.keys.create({ name: 'other', owner: 'tester', models: ['*'] })
  const foreign = await apiError(gw.openai(other).responses.retrieve(res.id))
  t.equal(foreign.status, 404, 'same owner, other key: 404')
  t.match(foreign.error, { message: `Response with id '${res.id}' not found.`, type: 'not_found_error' })
  t.equal((await apiError(gw.openai(other).responses.delete(res.id))).status, 404)
  t.equal(
    (await apiError(gw.openai(other).responses.create({ model: HAIKU, input: 'x', previous_response_id: res.id })))
      .status,
    404,
  )

  const deleted = await (
    await fetch(`${gw.url}/v1/responses/${res.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${gw.key}` },
    })
  ).json()
  t.same(deleted, { id: res.id, object: 'response', deleted: true })
  t.equal((await apiError(client.responses.retrieve(res.id))).status, 404)
  t.equal((await apiError(client.responses.delete(res.id))).status, 404)
  t.equal((await apiError(client.responses.inputItems.list(res.id))).status, 404)
  const chained = await apiError(client.responses.create({ model: HAIKU, input: 'x', previous_response_id: res.id }))
  t.equal(chained.status, 404)
  t.equal(chained.param, 'previous_response_id')
  t.equal((await apiError(client.responses.retrieve('resp_nope'))).status, 404)
})

t.test('max_output_tokens → incomplete; content filter → incomplete', async (t) => {
  handler = () => ({ json: converseTextResponse('Once upon a', { stopReason: 'max_tokens' }) })
  const res = await client.responses.create({ model: HAIKU, input: 'story', max_output_tokens: 3 })
  t.equal(res.status, 'incomplete')
  t.same(res.incomplete_details, { reason: 'max_output_tokens' })
  t.equal(res.output_text, 'Once upon a')
  t.equal(last().body.inferenceConfig.maxTokens, 3)

  handler = () => ({ frames: textStreamFrames(['Once', ' upon'], { stopReason: 'max_tokens' }) })
  const events: ResponseStreamEvent[] = []
  for await (const e of await client.responses.create({
    model: HAIKU,
    input: 'story',
    max_output_tokens: 3,
    stream: true,
  }))
    events.push(e)
  const end = events.at(-1)!
  t.equal(end.type, 'response.incomplete')
  t.same((end as Extract<ResponseStreamEvent, { type: 'response.incomplete' }>).response.incomplete_details, {
    reason: 'max_output_tokens',
  })

  handler = () => ({ json: converseTextResponse('', { stopReason: 'content_filtered' }) })
  const filtered = await client.responses.create({ model: HAIKU, input: 'x' })
  t.same(filtered.incomplete_details, { reason: 'content_filter' })
})

t.test('json_schema output: a forced tool upstream, JSON text back (parse helper works)', async (t) => {
  handler = () => ({
    json: converseToolUseResponse([{ toolUseId: 'tooluse_J', name: 'person', input: { name: 'Ada', age: 36 } }]),
  })
  const schema = {
    type: 'object',
    properties: { name: { type: 'string' }, age: { type: 'integer' } },
    required: ['name', 'age'],
    additionalProperties: false,
  }
  const res = await client.responses.parse({
    model: 'claude-sonnet-4-5',
    input: 'Ada, 36',
    text: { format: { type: 'json_schema', name: 'person', schema, strict: true } },
  })
  t.same(res.output_parsed, { name: 'Ada', age: 36 })
  t.same(JSON.parse(res.output_text), { name: 'Ada', age: 36 })
  t.same(last().body.toolConfig.toolChoice, { tool: { name: 'person' } })
  t.same(last().body.toolConfig.tools[0].toolSpec.inputSchema.json, schema)
})

t.test('reasoning: effort → thinking budget; summary text and signature carried, sent back unchanged', async (t) => {
  const frames: StreamFrame[] = [
    { event: 'messageStart', data: { role: 'assistant' } },
    {
      event: 'contentBlockDelta',
      data: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'Let me think' } } },
    },
    { event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { reasoningContent: { text: ' hard.' } } } },
    {
      event: 'contentBlockDelta',
      data: { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'c2lnbmF0dXJl' } } },
    },
    { event: 'contentBlockStop', data: { contentBlockIndex: 0 } },
    { event: 'contentBlockDelta', data: { contentBlockIndex: 1, delta: { text: '42' } } },
    { event: 'contentBlockStop', data: { contentBlockIndex: 1 } },
    { event: 'messageStop', data: { stopReason: 'end_turn' } },
    {
      event: 'metadata',
      data: { usage: { inputTokens: 3, outputTokens: 9, totalTokens: 12 }, metrics: { latencyMs: 1 } },
    },
  ]
  handler = () => ({ frames })
  const events: ResponseStreamEvent[] = []
  for await (const e of await client.responses.create({
    model: 'claude-opus-4-5',
    input: 'Meaning of life?',
    reasoning: { effort: 'low', summary: 'auto' },
    stream: true,
  }))
    events.push(e)
  t.same(events.map((e) => e.type).slice(2, 9), [
    'response.output_item.added',
    'response.reasoning_summary_part.added',
    'response.reasoning_summary_text.delta',
    'response.reasoning_summary_text.delta',
    'response.reasoning_summary_text.done',
    'response.reasoning_summary_part.done',
    'response.output_item.done',
  ])
  const final = (events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>).response
  const reasoning = final.output[0] as OpenAI.Responses.ResponseReasoningItem
  t.equal(reasoning.type, 'reasoning')
  t.same(reasoning.summary, [{ type: 'summary_text', text: 'Let me think hard.' }])
  t.match(reasoning.encrypted_content, /^pwr1\./)
  t.equal(final.output_text, '42')
  t.same(last().body.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 2048 } })

  // Sent back statelessly (as Codex does), the signed thinking goes upstream exactly.
  handler = () => ({ json: converseTextResponse('ok') })
  await client.responses.create({
    model: 'claude-opus-4-5',
    reasoning: { effort: 'low' },
    store: false,
    input: [
      { role: 'user', content: 'Meaning of life?' },
      ...(final.output as OpenAI.Responses.ResponseInputItem[]),
      { role: 'user', content: 'Sure?' },
    ],
  })
  t.same(last().body.messages[1].content, [
    { reasoningContent: { reasoningText: { text: 'Let me think hard.', signature: 'c2lnbmF0dXJl' } } },
    { text: '42' },
  ])
  // And through the stored chain.
  await client.responses.create({
    model: 'claude-opus-4-5',
    reasoning: { effort: 'low' },
    input: 'Sure?',
    previous_response_id: final.id,
  })
  t.same(last().body.messages[1].content, [
    { reasoningContent: { reasoningText: { text: 'Let me think hard.', signature: 'c2lnbmF0dXJl' } } },
    { text: '42' },
  ])

  const err = await apiError(
    client.responses.create({ model: 'llama3-3-70b', input: 'x', reasoning: { effort: 'high' } }),
  )
  t.equal(err.status, 400)
  t.equal(err.param, 'reasoning.effort')
})

t.test('refused fields and tools: 400 naming them', async (t) => {
  const bad = async (params: object, param: string, message: RegExp) => {
    const err = await apiError(client.responses.create({ model: HAIKU, input: 'x', ...params } as never))
    t.equal(err.status, 400, param)
    t.equal(err.param, param)
    t.match(err.message, message)
    t.match(err.error, { type: 'invalid_request_error' })
  }
  await bad({ tools: [{ type: 'web_search' }] }, 'tools[0]', /built-in tool 'web_search'/)
  await bad({ tools: [{ type: 'file_search', vector_store_ids: ['x'] }] }, 'tools[0]', /built-in tool 'file_search'/)
  await bad({ tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] }, 'tools[0]', /code_interpreter/)
  await bad(
    { tools: [{ type: 'computer_use_preview', display_height: 1, display_width: 1, environment: 'linux' }] },
    'tools[0]',
    /computer_use_preview/,
  )
  await bad({ background: true }, 'background', /background mode/)
  await bad({ conversation: 'conv_1' }, 'conversation', /Conversations API/)
  await bad(
    { input: [{ type: 'web_search_call', id: 'ws', status: 'completed' }] },
    'input[0]',
    /Input item type 'web_search_call'/,
  )
  await bad(
    { input: [{ type: 'function_call_output', call_id: 'nope', output: 'x' }] },
    'input[0].call_id',
    /No function call found/,
  )
  await bad(
    { input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1', detail: 'auto' }] }] },
    'input[0].content[0]',
    /not fetched/,
  )
  await bad({ temperature: 7 }, 'temperature', /Invalid value/)
  await bad({ max_output_tokens: 10_000_000 }, 'max_output_tokens', /too large/)
  await bad(
    { tool_choice: { type: 'function', name: 'nope' }, tools: [weatherTool] },
    'tool_choice',
    /not among the tools/,
  )
  await bad({ top_logprobs: 3 }, 'top_logprobs', /log probabilities/)
})

t.test('errors: OpenAI shape and status for each kind', async (t) => {
  const simple = { model: HAIKU, input: 'x' }
  const expectError = async (p: Promise<unknown>, status: number, type: string) => {
    const err = await apiError(p)
    t.equal(err.status, status, `${type} status`)
    t.same(Object.keys(err.error as object).sort(), ['code', 'message', 'param', 'type'])
    t.match(err.error, { type, message: String })
    return err
  }
  await expectError(client.responses.create({ input: 'x' } as never), 400, 'invalid_request_error')
  await expectError(gw.openai('pw-nope-nope').responses.create(simple), 401, 'authentication_error')
  const { key: narrow } = await gw.app.keys.create({ name: 'narrow', owner: 'o', models: ['claude-sonnet-4-5'] })
  await expectError(gw.openai(narrow).responses.create(simple), 403, 'permission_error')
  await expectError(client.responses.create({ ...simple, model: 'gpt-9' }), 404, 'not_found_error')
  await expectError(
    client.responses.create({ ...simple, input: 'x'.repeat(6 * 1024 * 1024 + 10) }),
    413,
    'invalid_request_error',
  )
  const left = 60_000 - (Date.now() % 60_000)
  if (left < 5_000) await new Promise((r) => setTimeout(r, left + 50))
  const { key: slow } = await gw.app.keys.create({ name: 'rpm', owner: 'o', rpm: 1 })
  handler = () => ({ json: converseTextResponse('ok') })
  const first = await gw.openai(slow).responses.create(simple).withResponse()
  t.equal(first.response.headers.get('x-ratelimit-limit-requests'), '1')
  const limited = await expectError(gw.openai(slow).responses.create(simple), 429, 'rate_limit_error')
  t.ok(Number(limited.headers?.get('retry-after')) >= 1, 'retry-after')
  handler = () => ({ error: { type: 'ThrottlingException', message: 'Too many requests' } })
  await expectError(client.responses.create(simple), 429, 'rate_limit_error')
  handler = () => ({ error: { type: 'InternalServerException', message: 'boom' } })
  await expectError(client.responses.create({ ...simple, stream: true }), 502, 'api_error')
  handler = () => ({ error: { type: 'ServiceUnavailableException', message: 'Bedrock is unavailable' } })
  await expectError(client.responses.create(simple), 503, 'api_error')
  handler = () => ({ error: { type: 'ValidationException', message: 'bad input' } })
  const v = await expectError(client.responses.create(simple), 400, 'invalid_request_error')
  t.match(v.message, /bad input/)
})

t.test('a mid-stream upstream failure: `error` then response.failed, metered as estimated', async (t) => {
  handler = () => ({
    frames: [
      ...textStreamFrames(['Hello ', 'wor']).slice(0, 3),
      { exception: 'serviceUnavailableException', data: { message: 'Bedrock is overloaded' } },
    ],
  })
  const events: ResponseStreamEvent[] = []
  for await (const e of await client.responses.create({ model: HAIKU, input: 'q', stream: true })) events.push(e)
  const types = events.map((e) => e.type)
  t.same(types.slice(-2), ['error', 'response.failed'])
  t.match(events.at(-2), { type: 'error', message: 'Bedrock is overloaded' })
  const failed = (events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.failed' }>).response
  t.equal(failed.status, 'failed')
  t.match(failed.error, { code: 'server_error', message: 'Bedrock is overloaded' })
  t.same(
    events.map((e) => e.sequence_number),
    events.map((_, i) => i),
  )
  await new Promise((r) => setTimeout(r, 50))
  t.equal(gw.usage.events.at(-1)!.estimated, true, 'output had started: metered (estimated)')
})

t.test('a client abort cancels the Bedrock call', async (t) => {
  const pieces = Array.from({ length: 40 }, (_, i) => `w${i} `)
  handler = () => ({ frames: textStreamFrames(pieces, { delayMs: 50 }) })
  const controller = new AbortController()
  const stream = await client.responses.create(
    { model: HAIKU, input: 'long', stream: true },
    { signal: controller.signal },
  )
  let n = 0
  await (async () => {
    for await (const e of stream) if (e.type === 'response.output_text.delta' && ++n === 3) controller.abort()
  })().catch(() => {})
  await gw.bedrock.idle()
  t.equal(last().aborted, true, 'the upstream stream was cancelled')
})
