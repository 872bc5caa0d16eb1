/**
 * The 15-minute limit on the Lambda shim: with a tiny remaining-time budget, a stream still
 * running at (invocation end − margin) is ended by the gateway with what was produced, a warning
 * (SSE comment + `pennyworth_warning`), each door's truncation reason, and metering; a
 * non-streamed call answers 504 suggesting `stream: true`.
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { converseTextResponse, textStreamFrames } from '../helpers/bedrock-server.js'
import { installAwsLambdaShim, prepareLambdaEnv, restProxyEvent } from '../helpers/lambda.js'

const MARGIN_MS = 1_000
/** Bedrock's answer: 40 pieces, 200 ms apart (8 s in all), far longer than the budget below. */
const PIECES = Array.from({ length: 40 }, (_, i) => `w${i} `)
/** The first three pieces come at once, so a loaded machine still sees some output before the deadline. */
const frames = () => {
  const all = textStreamFrames(PIECES, { delayMs: 200 })
  let delays = 0
  return all.filter((f) => !('delayMs' in f) || ++delays > 3)
}

const { key, bedrock } = await prepareLambdaEnv(
  t,
  async (call) => {
    if (call.operation === 'converse-stream') return { frames: frames() }
    await sleep(5_000)
    return { json: converseTextResponse('too late') }
  },
  { PENNYWORTH_LAMBDA_STREAMING: 'true', PENNYWORTH_LAMBDA_TIMEOUT_MARGIN_MS: String(MARGIN_MS) },
)
const runtime = installAwsLambdaShim()
const { handler } = await import('../../app/lambda.js')
t.teardown(() => {
  delete (globalThis as Record<string, unknown>).awslambda
})
t.equal(typeof handler, 'function')

/** The invocation's budget: the deadline falls 3 s after the start (the answer takes 8 s). */
const BUDGET_MS = MARGIN_MS + 3_000

/** `data:` payloads of an SSE body (JSON only). */
const dataOf = (body: string) =>
  body
    .split('\n')
    .filter((l) => l.startsWith('data: {'))
    .map((l) => JSON.parse(l.slice(6)))

const contentOf = (body: string) =>
  dataOf(body)
    .map((c) => c.choices?.[0]?.delta?.content ?? '')
    .join('')

t.test('without a context deadline (local server) nothing is cut', async (t) => {
  const res = await runtime.invoke(
    restProxyEvent(
      'POST',
      '/v1/chat/completions',
      { Authorization: `Bearer ${key}` },
      { model: 'claude-haiku-4-5', stream: true, messages: [{ role: 'user', content: 'whole' }] },
    ),
  )
  t.equal(contentOf(res.body), PIECES.join(''), 'the whole answer')
  t.notMatch(res.body, /pennyworth_warning|: warning/)
  // The Responses door loads its modules on first use: not inside the tight budget below.
  const warm = await runtime.invoke(
    restProxyEvent('POST', '/v1/responses', { Authorization: `Bearer ${key}` }, { model: 'no-such-model', input: 'x' }),
  )
  t.equal(warm.meta?.statusCode, 404)
})

t.test('Chat Completions: a stream past the deadline ends with finish_reason length and a warning', async (t) => {
  const before = bedrock.calls.length
  const started = Date.now()
  const res = await runtime.invoke(
    restProxyEvent(
      'POST',
      '/v1/chat/completions',
      { Authorization: `Bearer ${key}` },
      {
        model: 'claude-haiku-4-5',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'long' }],
      },
    ),
    { remainingMs: BUDGET_MS },
  )
  const took = Date.now() - started
  t.equal(res.meta?.statusCode, 200)
  const text = contentOf(res.body)
  t.match(text, /^w0 w1 w2 /, `the partial answer was sent: "${text}"`)
  t.ok(text.length < PIECES.join('').length, 'but not the whole answer')
  t.ok(took < BUDGET_MS, `the invocation ended before its budget ran out (${took} ms of ${BUDGET_MS})`)
  t.match(res.body, /\n: warning: pennyworth ended this answer[^\n]*\n\n/, 'an SSE comment with the warning')
  const chunks = dataOf(res.body)
  const finish = chunks.find((c) => c.choices?.[0]?.finish_reason)
  t.equal(finish.choices[0].finish_reason, 'length')
  t.equal(finish.pennyworth_warning.code, 'deadline_exceeded')
  t.match(finish.pennyworth_warning.message, /time limit/)
  const usage = chunks.find((c) => c.usage)?.usage
  t.ok(usage.completion_tokens > 0, `the produced output is counted (${usage.completion_tokens} tokens)`)
  t.match(res.body, /data: \[DONE\]\n\n$/, 'a normal end of stream')
  await bedrock.idle()
  t.equal(bedrock.calls.length, before + 1)
  t.equal(bedrock.calls.at(-1)!.aborted, true, 'the Bedrock call was aborted')
})

t.test('Messages: stop_reason max_tokens, the warning on message_delta, message_stop last', async (t) => {
  const res = await runtime.invoke(
    restProxyEvent(
      'POST',
      '/v1/messages',
      { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      { model: 'claude-haiku-4-5', max_tokens: 500, stream: true, messages: [{ role: 'user', content: 'long' }] },
    ),
    { remainingMs: BUDGET_MS },
  )
  t.equal(res.meta?.statusCode, 200)
  const events = dataOf(res.body)
  const text = events
    .filter((e) => e.type === 'content_block_delta')
    .map((e) => e.delta.text)
    .join('')
  t.match(text, /^w0 w1 w2 /, 'the partial answer')
  t.ok(
    events.some((e) => e.type === 'content_block_stop'),
    'the open block is stopped',
  )
  const delta = events.find((e) => e.type === 'message_delta')
  t.equal(delta.delta.stop_reason, 'max_tokens')
  t.equal(delta.pennyworth_warning.code, 'deadline_exceeded')
  t.ok(delta.usage.output_tokens > 0)
  t.match(res.body, /: warning: pennyworth ended/)
  t.match(res.body, /event: message_stop\ndata: \{"type":"message_stop"\}\n\n$/)
})

t.test('Responses: response.incomplete (max_output_tokens) with the warning', async (t) => {
  const res = await runtime.invoke(
    restProxyEvent(
      'POST',
      '/v1/responses',
      { Authorization: `Bearer ${key}` },
      { model: 'claude-haiku-4-5', stream: true, store: false, input: 'long' },
    ),
    { remainingMs: BUDGET_MS },
  )
  t.equal(res.meta?.statusCode, 200)
  const events = dataOf(res.body)
  const last = events.at(-1)
  t.equal(last.type, 'response.incomplete', 'the last event')
  t.equal(last.response.status, 'incomplete')
  t.same(last.response.incomplete_details, { reason: 'max_output_tokens' })
  t.equal(last.pennyworth_warning.code, 'deadline_exceeded')
  t.match(last.response.output[0].content[0].text, /^w0 w1 w2 /, 'the partial answer is in the response')
  t.ok(last.response.usage.output_tokens > 0)
  t.match(res.body, /: warning: pennyworth ended[^\n]*\n\nevent: response.incomplete/)
})

t.test('the cut streams are metered (estimated, with their output)', async (t) => {
  const res = await runtime.invoke(restProxyEvent('GET', '/v1/usage', { Authorization: `Bearer ${key}` }))
  t.equal(res.meta?.statusCode, 200)
  const body = JSON.parse(res.body)
  t.equal(body.totals.requests, 4, 'four calls metered (a whole one and the three cut ones)')
  t.equal(body.totals.estimated_requests, 3, 'the cut ones at the estimate (Bedrock sent no usage)')
  // The whole answer: Bedrock's count (~1 token per 4 characters of 150); the cut ones add theirs.
  t.ok(body.totals.output_tokens > 38 + 3, `their output counted too (${body.totals.output_tokens})`)
})

t.test('a non-streamed call past the deadline answers 504 suggesting stream: true', async (t) => {
  const before = bedrock.calls.length
  const started = Date.now()
  const res = await runtime.invoke(
    restProxyEvent(
      'POST',
      '/v1/chat/completions',
      { Authorization: `Bearer ${key}` },
      { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'slow' }] },
    ),
    { remainingMs: BUDGET_MS },
  )
  t.ok(Date.now() - started < BUDGET_MS, 'answered at the deadline, not when the model finished')
  t.equal(res.meta?.statusCode, 504)
  const body = JSON.parse(res.body)
  t.equal(body.error.code, 'deadline_exceeded')
  t.equal(body.error.type, 'api_error')
  t.match(body.error.message, /stream: true/)
  await bedrock.idle()
  t.equal(bedrock.calls.length, before + 1)
  t.equal(bedrock.calls.at(-1)!.aborted, true, 'the Bedrock call was aborted')

  const anthropic = await runtime.invoke(
    restProxyEvent(
      'POST',
      '/v1/messages',
      { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      { model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'slow' }] },
    ),
    { remainingMs: BUDGET_MS },
  )
  t.equal(anthropic.meta?.statusCode, 504)
  const err = JSON.parse(anthropic.body)
  t.equal(err.type, 'error', "Anthropic's error shape")
  t.equal(err.error.type, 'timeout_error')
  t.match(err.error.message, /stream: true/)
  await bedrock.idle()
})

t.test('no time left at the start: 504 at once, Bedrock never called', async (t) => {
  const before = bedrock.calls.length
  const res = await runtime.invoke(
    restProxyEvent(
      'POST',
      '/v1/chat/completions',
      { Authorization: `Bearer ${key}` },
      { model: 'claude-haiku-4-5', stream: true, messages: [{ role: 'user', content: 'q' }] },
    ),
    { remainingMs: MARGIN_MS - 100 },
  )
  t.equal(res.meta?.statusCode, 504)
  t.equal(JSON.parse(res.body).error.code, 'deadline_exceeded')
  t.equal(bedrock.calls.length, before, 'no upstream call')
})
