import t from 'tap'
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime'
import { ApiError } from '../../../app/errors.js'
import { converseStreamToChunks, type ChatRequest, type ChatStreamEvent } from '../../helpers/openai-over-bedrock.js'
import type { ChunkDelta } from '../../../app/schemas/chat.js'
import { chatReq, recordingLogger, user } from '../../fixtures/bedrock.js'

// Event builders in the shape the SDK yields (the event structure under its member name).
const start = (): ConverseStreamOutput => ({ messageStart: { role: 'assistant' } })
const text = (i: number, s: string): ConverseStreamOutput => ({
  contentBlockDelta: { contentBlockIndex: i, delta: { text: s } },
})
const think = (i: number, s: string): ConverseStreamOutput => ({
  contentBlockDelta: { contentBlockIndex: i, delta: { reasoningContent: { text: s } } },
})
const sig = (i: number): ConverseStreamOutput => ({
  contentBlockDelta: { contentBlockIndex: i, delta: { reasoningContent: { signature: 'abc' } } },
})
const toolStart = (i: number, id: string, name: string): ConverseStreamOutput => ({
  contentBlockStart: { contentBlockIndex: i, start: { toolUse: { toolUseId: id, name } } },
})
const toolDelta = (i: number, input: string): ConverseStreamOutput => ({
  contentBlockDelta: { contentBlockIndex: i, delta: { toolUse: { input } } },
})
const stopBlock = (i: number): ConverseStreamOutput => ({ contentBlockStop: { contentBlockIndex: i } })
const stop = (reason: string): ConverseStreamOutput => ({ messageStop: { stopReason: reason as never } })
const meta = (inputTokens = 12, outputTokens = 3, extra = {}): ConverseStreamOutput => ({
  metadata: {
    usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, ...extra },
    metrics: { latencyMs: 5 },
  },
})

async function* from(events: ConverseStreamOutput[]) {
  for (const e of events) yield e
}
async function collect(
  events: ConverseStreamOutput[],
  req: ChatRequest,
  log = recordingLogger().log,
): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = []
  for await (const e of converseStreamToChunks(from(events), req, log)) out.push(e)
  return out
}
const deltas = (evs: ChatStreamEvent[]) => evs.flatMap((e) => ('chunk' in e ? [e.chunk.choices[0].delta] : []))
const finishes = (evs: ChatStreamEvent[]) =>
  evs.flatMap((e) => ('chunk' in e ? [e.chunk.choices[0].finish_reason] : []))
const plain = chatReq({ messages: [user('hi')], stream: true })

t.test('a text stream', async (t) => {
  const evs = await collect(
    [start(), text(0, 'Hel'), text(0, ''), text(0, 'lo'), stopBlock(0), stop('end_turn'), meta()],
    plain,
  )
  t.same(deltas(evs), [{ role: 'assistant', content: '' }, { content: 'Hel' }, { content: 'lo' }, {}])
  t.same(finishes(evs), [null, null, null, 'stop'])
  t.same(
    evs[evs.length - 1],
    { tokens: { inputTokens: 12, outputTokens: 3, cacheReadTokens: 0, cacheWriteTokens: 0 } },
    'tokens last',
  )
  t.equal(evs.filter((e) => 'tokens' in e).length, 1, 'exactly once')
  const first = evs[0] as { chunk: object }
  t.same(first.chunk, {
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'claude-sonnet-4-5',
    system_fingerprint: null,
    choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }],
  })
})

t.test('no messageStart: the role chunk still comes first', async (t) => {
  const evs = await collect([text(0, 'x'), stop('max_tokens'), meta()], plain)
  t.same(deltas(evs), [{ role: 'assistant', content: '' }, { content: 'x' }, {}])
  t.same(finishes(evs), [null, null, 'length'])
})

t.test('reasoning deltas → reasoning_content; signatures dropped', async (t) => {
  const evs = await collect(
    [
      start(),
      think(0, 'Hmm. '),
      think(0, 'Yes.'),
      sig(0),
      stopBlock(0),
      text(1, 'Answer'),
      stopBlock(1),
      stop('end_turn'),
      meta(),
    ],
    plain,
  )
  t.same(deltas(evs), [
    { role: 'assistant', content: '' },
    { reasoning_content: 'Hmm. ' },
    { reasoning_content: 'Yes.' },
    { content: 'Answer' },
    {},
  ])
})

t.test('parallel tool calls: our indexes from 0, id+name first, fragments after', async (t) => {
  const req = chatReq({ messages: [user('x')], tools: [{ type: 'function', function: { name: 'get' } }] })
  const evs = await collect(
    [
      start(),
      text(0, 'Checking both.'),
      stopBlock(0),
      toolStart(1, 'tooluse_A', 'get'),
      toolDelta(1, ''),
      toolDelta(1, '{"city":'),
      toolDelta(1, '"Oslo"}'),
      stopBlock(1),
      toolStart(2, 'tooluse_B', 'get'),
      toolDelta(2, '{"city":"Rome"}'),
      stopBlock(2),
      stop('tool_use'),
      meta(),
    ],
    req,
  )
  const d: ChunkDelta[] = deltas(evs)
  t.same(d, [
    { role: 'assistant', content: '' },
    { content: 'Checking both.' },
    { tool_calls: [{ index: 0, id: 'tooluse_A', type: 'function', function: { name: 'get', arguments: '' } }] },
    { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
    { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] },
    { tool_calls: [{ index: 1, id: 'tooluse_B', type: 'function', function: { name: 'get', arguments: '' } }] },
    { tool_calls: [{ index: 1, function: { arguments: '{"city":"Rome"}' } }] },
    {},
  ])
  t.equal(finishes(evs).at(-1), 'tool_calls')
})

t.test('parallel_tool_calls false: later calls dropped; tool_choice none: all dropped', async (t) => {
  const events = [
    start(),
    toolStart(0, 'a', 'get'),
    toolDelta(0, '{}'),
    stopBlock(0),
    toolStart(1, 'b', 'get'),
    toolDelta(1, '{"x":1}'),
    stopBlock(1),
    stop('tool_use'),
    meta(),
  ]
  const tools = [{ type: 'function' as const, function: { name: 'get' } }]
  const one = await collect(events, chatReq({ messages: [user('x')], tools, parallel_tool_calls: false }))
  t.same(
    deltas(one)
      .flatMap((d) => d.tool_calls ?? [])
      .map((c) => c.index),
    [0, 0],
  )
  t.equal(finishes(one).at(-1), 'tool_calls')
  const none = await collect(events, chatReq({ messages: [user('x')], tools, tool_choice: 'none' }))
  t.same(deltas(none), [{ role: 'assistant', content: '' }, {}])
  t.equal(finishes(none).at(-1), 'stop')
})

t.test('JSON mode: the forced tool input streams as content', async (t) => {
  const req = chatReq({ messages: [user('x')], response_format: { type: 'json_object' } })
  const evs = await collect(
    [
      start(),
      toolStart(0, 'j', 'json_response'),
      toolDelta(0, ''),
      toolDelta(0, '{"a":'),
      toolDelta(0, '1}'),
      stopBlock(0),
      stop('tool_use'),
      meta(),
    ],
    req,
  )
  t.same(deltas(evs), [{ role: 'assistant', content: '' }, { content: '{"a":' }, { content: '1}' }, {}])
  t.equal(finishes(evs).at(-1), 'stop')

  const prose = await collect(
    [
      start(),
      text(0, 'Sure: '),
      stopBlock(0),
      toolStart(1, 'j', 'json_response'),
      toolDelta(1, '{"a":1}'),
      stop('tool_use'),
      meta(),
    ],
    req,
  )
  t.same(
    deltas(prose),
    [{ role: 'assistant', content: '' }, { content: '{"a":1}' }, {}],
    'prose around the JSON is not content',
  )

  const empty = await collect(
    [start(), toolStart(0, 'j', 'json_response'), toolDelta(0, ''), stop('tool_use'), meta()],
    req,
  )
  t.same(deltas(empty), [{ role: 'assistant', content: '' }, { content: '{}' }, {}])

  const noTool = await collect([start(), text(0, '{"b":'), text(0, '2}'), stop('end_turn'), meta()], req)
  t.same(
    deltas(noTool),
    [{ role: 'assistant', content: '' }, { content: '{"b":2}' }, {}],
    'never called the tool: held text emitted at the end',
  )
})

t.test('JSON mode with tools: a real tool call streams as a tool call', async (t) => {
  const req = chatReq({
    messages: [user('x')],
    tools: [{ type: 'function', function: { name: 'lookup' } }],
    response_format: { type: 'json_object' },
  })
  const evs = await collect(
    [start(), toolStart(0, 't1', 'lookup'), toolDelta(0, '{"q":1}'), stop('tool_use'), meta()],
    req,
  )
  t.same(deltas(evs).slice(1), [
    { tool_calls: [{ index: 0, id: 't1', type: 'function', function: { name: 'lookup', arguments: '' } }] },
    { tool_calls: [{ index: 0, function: { arguments: '{"q":1}' } }] },
    {},
  ])
  t.equal(finishes(evs).at(-1), 'tool_calls')
})

t.test('usage with cache counts', async (t) => {
  const evs = await collect(
    [start(), text(0, 'x'), stop('end_turn'), meta(5, 2, { cacheReadInputTokens: 100, cacheWriteInputTokens: 30 })],
    plain,
  )
  t.same(evs.at(-1), { tokens: { inputTokens: 5, outputTokens: 2, cacheReadTokens: 100, cacheWriteTokens: 30 } })
})

t.test('no metadata: zero tokens once, and a warning', async (t) => {
  const { log, lines } = recordingLogger()
  const evs = await collect([start(), text(0, 'x'), stop('end_turn')], plain, log)
  t.same(evs.at(-1), { tokens: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } })
  t.equal(lines.filter((l) => l.level === 'warn').length, 1)
  t.match(lines[0].msg, /metadata/)
})

t.test('a stream that ends without messageStop is an error, not a silent stop', async (t) => {
  await t.rejects(collect([start(), text(0, 'partial')], plain), { status: 502, code: 'upstream_incomplete_stream' })
  await t.rejects(collect([], plain), { name: 'ApiError', status: 502 }, 'empty stream')
})

t.test('malformed stop reason mid-stream → 502 after the content so far', async (t) => {
  const seen: ChatStreamEvent[] = []
  await t.rejects(
    (async () => {
      for await (const e of converseStreamToChunks(
        from([start(), text(0, 'a'), stop('malformed_tool_use'), meta()]),
        plain,
      ))
        seen.push(e)
    })(),
    { status: 502, code: 'upstream_malformed_output' },
  )
  t.same(deltas(seen), [{ role: 'assistant', content: '' }, { content: 'a' }])
})

t.test('exception members are thrown as mapped errors; unknown events skipped', async (t) => {
  const events = [
    start(),
    { somethingNew: { x: 1 } } as never,
    text(0, 'a'),
    { throttlingException: { message: 'Too many tokens' } } as never,
  ]
  const err = await collect(events, plain).catch((e) => e)
  t.ok(err instanceof ApiError)
  t.match(err, { status: 429, type: 'rate_limit_error', code: 'upstream_throttled', message: 'Too many tokens' })
  const v = await collect([start(), { validationException: { message: 'bad' } } as never], plain).catch((e) => e)
  t.match(v, { status: 400, code: 'upstream_validation_error' })
})

t.test('state is per generator: two interleaved streams do not interfere', async (t) => {
  const req = chatReq({ messages: [user('x')], tools: [{ type: 'function', function: { name: 'get' } }] })
  const a = converseStreamToChunks(
    from([start(), toolStart(3, 'A', 'get'), toolDelta(3, '{}'), stop('tool_use'), meta()]),
    req,
  )
  const b = converseStreamToChunks(
    from([start(), toolStart(5, 'B', 'get'), toolDelta(5, '{}'), stop('tool_use'), meta()]),
    req,
  )
  const out: ChatStreamEvent[] = []
  for (let i = 0; i < 6; i++) {
    for (const g of [a, b]) {
      const r = await g.next()
      if (!r.done) out.push(r.value)
    }
  }
  const calls = deltas(out).flatMap((d) => d.tool_calls ?? [])
  t.same(
    calls.filter((c) => c.id).map((c) => [c.id, c.index]),
    [
      ['A', 0],
      ['B', 0],
    ],
  )
})

t.test(
  'regression: a tool call without arguments streams "{}", not "" (Bedrock sends no input fragment)',
  async (t) => {
    const req = chatReq({
      messages: [user('x')],
      tools: [
        { type: 'function', function: { name: 'now' } },
        { type: 'function', function: { name: 'get' } },
      ],
    })
    const evs = await collect(
      [
        start(),
        toolStart(0, 'tu_now', 'now'),
        toolDelta(0, ''),
        stopBlock(0),
        toolStart(1, 'tu_get', 'get'),
        toolDelta(1, '{"a":1}'),
        stopBlock(1),
        toolStart(2, 'tu_bare', 'now'), // no delta and no contentBlockStop at all
        stop('tool_use'),
        meta(),
      ],
      req,
    )
    t.same(deltas(evs), [
      { role: 'assistant', content: '' },
      { tool_calls: [{ index: 0, id: 'tu_now', type: 'function', function: { name: 'now', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{}' } }] },
      { tool_calls: [{ index: 1, id: 'tu_get', type: 'function', function: { name: 'get', arguments: '' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{"a":1}' } }] },
      { tool_calls: [{ index: 2, id: 'tu_bare', type: 'function', function: { name: 'now', arguments: '' } }] },
      { tool_calls: [{ index: 2, function: { arguments: '{}' } }] },
      {},
    ])
    t.same(finishes(evs).at(-1), 'tool_calls')
  },
)
