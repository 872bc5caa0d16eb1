/**
 * Regression (issue 14 item 4, hang-up part): a client hanging up during a NON-streamed call
 * was logged at error level as "unhandled error" with the SDK's abort stack, and answered a
 * 500 nobody read. It is now an info line without a stack, counted as AbortedCalls, and the
 * access line says 499 (client closed request), aborted.
 */
import t from 'tap'
import http from 'node:http'
import { startGateway } from '../helpers/app.js'
import { converseTextResponse } from '../helpers/bedrock-server.js'

const lines: Array<Record<string, unknown>> = []
const gw = await startGateway(t, {
  bedrockHandler: async () => {
    await new Promise((r) => setTimeout(r, 1_000))
    return { json: converseTextResponse('too late') }
  },
  env: { PENNYWORTH_METRICS_ENDPOINT: 'true' },
  logger: { level: 'info', stream: { write: (line: string) => void lines.push(JSON.parse(line)) } },
})

t.test('a client that hangs up on a non-streamed call: info line, no stack, counted', async (t) => {
  const url = new URL(`${gw.url}/v1/chat/completions`)
  await new Promise<void>((resolve) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
    })
    req.on('error', () => resolve())
    req.end(JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] }))
    setTimeout(() => {
      req.destroy()
      resolve()
    }, 200)
  })
  // The upstream call is aborted with the client; give the app time to notice and finish.
  for (let i = 0; i < 40 && !lines.some((l) => l.msg === 'access' && l.door === 'chat'); i++)
    await new Promise((r) => setTimeout(r, 50))
  const errors = lines.filter((l) => (l.level as number) >= 50)
  t.same(
    errors.map((l) => l.msg),
    [],
    'no error-level line (was: "unhandled error" with the abort stack)',
  )
  const hungUp = lines.find((l) => l.msg === 'client hung up')
  t.ok(hungUp, 'an info line says the client hung up')
  t.equal(hungUp?.level, 30, 'at info level')
  t.notOk(JSON.stringify(hungUp ?? {}).includes('stack'), 'without a stack')
  const access = lines.find((l) => l.msg === 'access' && l.door === 'chat')
  t.equal(access?.status, 499, 'access line: 499')
  t.equal(access?.aborted, true)
  await gw.app.flushBackground()
  const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${gw.key}` } })
  t.match(await res.text(), /pennyworth_aborted_calls_total\{door="chat",model="claude-haiku-4-5"\} 1/)
})
