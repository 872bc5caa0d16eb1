/** SSE framing per front door, and Anthropic's keep-alive pings while the source is silent. */
import t from 'tap'
import { ANTHROPIC_FRAMING, OPENAI_FRAMING, sseStream, type SseFraming } from '../../app/lib/sse.js'

async function read(stream: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  for await (const chunk of stream) text += String(chunk)
  return text
}
async function* source(items: Array<object | { waitMs: number } | { fail: string }>) {
  for (const item of items) {
    if ('waitMs' in item) await new Promise((r) => setTimeout(r, item.waitMs as number))
    else if ('fail' in item) throw new Error(item.fail as string)
    else yield item
  }
}

t.test('OpenAI framing: data lines and [DONE]', async (t) => {
  const out = sseStream([{ a: 1 }], source([{ b: 2 }]), { errorPayload: () => ({}), framing: OPENAI_FRAMING })
  t.equal(await read(out), 'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n')
})

t.test('Anthropic framing: event names from the payload type, no terminator, error event', async (t) => {
  const ok = sseStream([{ type: 'message_start' }], source([{ type: 'message_stop' }]), {
    errorPayload: () => ({}),
    framing: ANTHROPIC_FRAMING,
  })
  t.equal(
    await read(ok),
    'event: message_start\ndata: {"type":"message_start"}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n',
  )
  const failed = sseStream([], source([{ fail: 'x' }]), {
    errorPayload: () => ({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    framing: ANTHROPIC_FRAMING,
  })
  t.equal(
    await read(failed),
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
  )
})

t.test('pings while the source is silent (e.g. a long thinking pause), none while it talks', async (t) => {
  // Wide margins on purpose: timers run late on a loaded CI machine, never early.
  const every = (ms: number): SseFraming => ({
    ...ANTHROPIC_FRAMING,
    keepAlive: { ms, text: 'event: ping\ndata: {"type": "ping"}\n\n' },
  })
  const quiet = sseStream([{ type: 'message_start' }], source([{ waitMs: 400 }, { type: 'message_stop' }]), {
    errorPayload: () => ({}),
    framing: every(50),
  })
  const text = await read(quiet)
  const pings = text.split('event: ping').length - 1
  t.ok(pings >= 2 && pings <= 8, `${pings} pings in 400 ms of silence at 50 ms`)
  t.ok(text.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n'))
  const busy = sseStream([], source(Array.from({ length: 60 }, (_, i) => [{ waitMs: 10 }, { type: `e${i}` }]).flat()), {
    errorPayload: () => ({}),
    framing: every(250),
  })
  t.notMatch(
    await read(busy),
    /ping/,
    'a source that talks every 10 ms for 600 ms gets no pings at a 250 ms keep-alive',
  )
})

t.test('a burst within one loop turn leaves in two writes, in order, and the stream ends cleanly', async (t) => {
  const burst = (n: number, end: 'done' | 'fail') =>
    source([...Array.from({ length: n }, (_, i) => ({ i })), ...(end === 'fail' ? [{ fail: 'boom' }] : [])])
  for (const end of ['done', 'fail'] as const) {
    const out = sseStream([], burst(50, end), { errorPayload: () => ({ error: 'boom' }), framing: OPENAI_FRAMING })
    const errors: unknown[] = []
    out.on('error', (e) => errors.push(e))
    // Nobody reads yet (a slow client): a flush scheduled before the end must not write after it.
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r))
    const chunks: string[] = []
    out.on('data', (c) => chunks.push(String(c)))
    await new Promise((r) => out.once('end', r))
    const expected =
      Array.from({ length: 50 }, (_, i) => `data: {"i":${i}}\n\n`).join('') +
      (end === 'done' ? 'data: [DONE]\n\n' : 'data: {"error":"boom"}\n\n')
    t.equal(chunks.join(''), expected, `${end}: every frame, in order`)
    t.ok(chunks.length <= 3, `${end}: ${chunks.length} writes for 51 frames`)
    t.same(errors, [])
  }
})

t.test('events a turn apart are written at once, not held for the next one', async (t) => {
  const out = sseStream([], source([{ a: 1 }, { waitMs: 200 }, { b: 2 }]), {
    errorPayload: () => ({}),
    framing: OPENAI_FRAMING,
  })
  const first = await new Promise<string>((r) => out.once('data', (c) => r(String(c))))
  t.equal(first, 'data: {"a":1}\n\n', 'the first event leaves before the source says more')
  out.resume()
  await new Promise((r) => out.once('end', r))
})
