/**
 * Observability on the Lambda entry (app/lambda.ts, buffered): EMF lines on stdout by default,
 * no GET /metrics, and with PENNYWORTH_TRACING on, real X-Ray subsegments from the Powertools
 * Tracer — received over UDP the way the X-Ray daemon receives them — one per Bedrock and
 * DynamoDB call, annotated with the front door and the model.
 */
import t from 'tap'
import dgram from 'node:dgram'
import { converseTextResponse } from '../helpers/bedrock-server.js'
import { prepareLambdaEnv, restProxyEvent } from '../helpers/lambda.js'

// The X-Ray daemon's UDP port (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-daemon).
const daemon = dgram.createSocket('udp4')
const segments: Array<Record<string, any>> = []
daemon.on('message', (m) => {
  const [header, body] = m.toString().split('\n')
  if (JSON.parse(header!).format === 'json') segments.push(JSON.parse(body!))
})
await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', () => resolve()))
t.teardown(() => daemon.close())

const emf: Array<Record<string, any>> = []
const write = process.stdout.write.bind(process.stdout)
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()
  if (text.startsWith('{"_aws"')) {
    emf.push(JSON.parse(text))
    return true
  }
  return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest)
}) as typeof process.stdout.write
t.teardown(() => {
  process.stdout.write = write
})

const { key } = await prepareLambdaEnv(t, () => ({ json: converseTextResponse('traced') }), {
  PENNYWORTH_LAMBDA_STREAMING: 'false',
  PENNYWORTH_TRACING: 'true',
  // What the Lambda runtime sets for a traced invocation.
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_FUNCTION_NAME: 'pennyworth-test-api',
  LAMBDA_TASK_ROOT: '/var/task',
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${(daemon.address() as { port: number }).port}`,
  AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
})
const { handler } = await import('../../app/lambda.js')
t.teardown(() => {
  for (const k of ['PENNYWORTH_TRACING', 'AWS_EXECUTION_ENV', 'LAMBDA_TASK_ROOT', '_X_AMZN_TRACE_ID'])
    delete process.env[k]
})
type Buffered = { statusCode: number; headers: Record<string, string>; body: string }
const invoke = (event: object) =>
  (handler as unknown as (e: object, c: object) => Promise<Buffered>)(event, { awsRequestId: 'r' })

t.test('a chat call: EMF line, X-Ray subsegments with door and model', async (t) => {
  const res = await invoke(
    restProxyEvent(
      'POST',
      '/v1/chat/completions',
      { Authorization: `Bearer ${key}` },
      { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'q' }] },
    ),
  )
  t.equal(res.statusCode, 200)
  const line = emf.find((l) => l.door === 'chat')
  t.ok(line, 'EMF is on by default on Lambda (written before the invocation returned)')
  t.equal(line?.model, 'claude-haiku-4-5')
  t.equal(line?.Requests, 1)
  await new Promise((r) => setTimeout(r, 200))
  const bedrock = segments.filter((s) => s.name === 'Bedrock.Converse')
  t.equal(bedrock.length, 1, 'one subsegment for the upstream call')
  t.same(bedrock[0]?.annotations, { door: 'chat', model: 'claude-haiku-4-5' })
  t.equal(bedrock[0]?.trace_id, '1-5759e988-bd862e3fe1be46a994272793', 'in the invocation trace')
  const dynamo = segments.filter((s) => String(s.name).startsWith('DynamoDB.'))
  t.ok(dynamo.length >= 1, `DynamoDB subsegments: ${dynamo.map((s) => s.name).join(', ')}`)
  t.ok(
    dynamo.some((s) => s.annotations?.door === 'chat' && s.annotations?.model === 'claude-haiku-4-5'),
    'DynamoDB calls of the request annotated with door and model',
  )
  t.notOk(JSON.stringify(segments).includes(key.split('-')[2]!), 'no key secret in any segment')
})

t.test('no GET /metrics on Lambda', async (t) => {
  const res = await invoke(restProxyEvent('GET', '/metrics', { Authorization: `Bearer ${key}` }))
  t.equal(res.statusCode, 404)
})
