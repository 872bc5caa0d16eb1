import t from 'tap'
import { converseTextResponse, textStreamFrames } from '../helpers/bedrock-server.js'
import { prepareLambdaEnv, restProxyEvent } from '../helpers/lambda.js'

const { key } = await prepareLambdaEnv(
  t,
  (call) =>
    call.operation === 'converse-stream'
      ? { frames: textStreamFrames(['a', 'b']) }
      : { json: converseTextResponse('hello from bedrock') },
  { PENNYWORTH_LAMBDA_STREAMING: 'false' },
)
const { handler } = await import('../../app/lambda.js')

type Buffered = { statusCode: number; headers: Record<string, string>; body: string }
const invoke = (event: object) =>
  (handler as unknown as (e: object, c: object) => Promise<Buffered>)(event, { awsRequestId: 'r' })

t.test('buffered REST proxy responses', async (t) => {
  const res = await invoke(
    restProxyEvent(
      'POST',
      '/v1/chat/completions',
      { Authorization: `Bearer ${key}` },
      { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'q' }] },
    ),
  )
  t.equal(res.statusCode, 200)
  t.equal(JSON.parse(res.body).choices[0].message.content, 'hello from bedrock')
  const sse = await invoke(
    restProxyEvent(
      'POST',
      '/v1/chat/completions',
      { Authorization: `Bearer ${key}` },
      { model: 'claude-haiku-4-5', stream: true, messages: [{ role: 'user', content: 'q' }] },
    ),
  )
  t.equal(sse.statusCode, 200)
  t.match(sse.body, /"content":"a".*"content":"b".*data: \[DONE\]/s, 'a whole SSE body when buffered')
  const notFound = await invoke(restProxyEvent('GET', '/v1/nothing', { Authorization: `Bearer ${key}` }))
  t.equal(notFound.statusCode, 404)
  t.equal(JSON.parse(notFound.body).error.type, 'not_found_error')
  const mock = await invoke(
    restProxyEvent(
      'POST',
      '/v1/chat/completions',
      { Authorization: `Bearer ${key}` },
      { model: 'pennyworth-mock', messages: [{ role: 'user', content: 'q' }] },
    ),
  )
  t.equal(mock.statusCode, 404, 'the mock model is not served on Lambda unless configured')
})
