/**
 * Regression (issue 14 item 4): a key put in the URL path or query (`/v1/models/<key>`,
 * `?key=<key>`) was logged in full in `req.url`. Key-shaped strings are redacted in logged
 * URLs, error messages and stacks, message strings, and the 404 message; the key id stays.
 */
import t from 'tap'
import { redactKeys } from '../../app/lib/redact.js'
import { startGateway } from '../helpers/app.js'

const lines: string[] = []
const gw = await startGateway(t, {
  logger: {
    level: 'info',
    stream: {
      write: (line: string) => {
        lines.push(line)
      },
    },
  },
})
const secret = gw.key.split('-').slice(2).join('-')
const keyId = gw.key.split('-')[1]

t.test('keys in the path or query never reach a log line', async (t) => {
  const auth = { authorization: `Bearer ${gw.key}` }
  await gw.app.inject({ method: 'GET', url: `/v1/models/${gw.key}`, headers: auth })
  await gw.app.inject({ method: 'GET', url: `/v1/models?key=${gw.key}&x=1`, headers: auth })
  const notFound = await gw.app.inject({ method: 'GET', url: `/v1/nowhere/${gw.key}?api_key=${gw.key}` })
  t.equal(notFound.statusCode, 404)
  t.notMatch(notFound.body, secret, 'the 404 message does not echo it')
  await gw.app.inject({
    method: 'POST',
    url: `/v1/chat/completions?key=${gw.key}`,
    headers: auth,
    payload: { model: gw.key, messages: [{ role: 'user', content: 'x' }] },
  })
  gw.app.log.info(`a message with ${gw.key} in it`)
  gw.app.log.error({ err: new Error(`bad key ${gw.key}`) }, 'an error')
  const all = lines.join('\n')
  // One access line per request (plugins/observability.ts) plus the two logged here.
  t.ok(lines.length >= 6, `${lines.length} lines logged`)
  t.equal(lines.filter((l) => JSON.parse(l).msg === 'access').length, 4, 'one access line per request')
  t.notMatch(all, secret, 'no secret in any log line')
  t.match(all, `pw-${keyId}-[redacted]`, 'the key id stays, for tracing')
  t.match(all, '/v1/models?key=pw-')
})

t.test('redactKeys', async (t) => {
  t.equal(redactKeys('nothing here'), 'nothing here')
  t.equal(redactKeys(`a ${gw.key} b ${gw.key}`), `a pw-${keyId}-[redacted] b pw-${keyId}-[redacted]`)
  t.equal(redactKeys('pw-short'), 'pw-short')
})
