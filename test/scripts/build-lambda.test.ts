/**
 * The Lambda bundle as it is deployed: `scripts/build-lambda.ts` builds app/lambda.ts into a temp
 * dir; the test imports dist's index.mjs and answers API Gateway REST proxy events, buffered
 * (no `awslambda` global) and streamed (a shim of the runtime's `awslambda` that frames the
 * response like Lambda does for API Gateway: JSON prelude, 8 NUL bytes, body). DynamoDB is an
 * in-process dynalite. Also measures size and cold import + ready time against a bare
 * fastify + @fastify/aws-lambda + SDK bundle built the same way.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import dynalite from 'dynalite'
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { ROOT, buildLambda, lambdaBuildOptions } from '../../scripts/build-lambda.js'
import { tableDefinitions } from '../../app/store/tables.js'

const run = promisify(execFile)
const outdir = mkdtempSync(join(tmpdir(), 'lambda-bundle-'))
const built = await buildLambda({ outdir })
const bundleUrl = pathToFileURL(built.outfile).href

// --- DynamoDB stand-in and the environment infra gives the function ---------------------------
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
const { port } = server.address() as { port: number }
const tables = { keys: 'bt-keys', usage: 'bt-usage', rateLimits: 'bt-rate-limits', audit: 'bt-audit' }
const env: Record<string, string> = {
  AWS_REGION: 'us-west-2',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
  AWS_SESSION_TOKEN: 'token',
  AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  PENNYWORTH_KEYS_TABLE: tables.keys,
  PENNYWORTH_USAGE_TABLE: tables.usage,
  PENNYWORTH_RATE_LIMITS_TABLE: tables.rateLimits,
  PENNYWORTH_AUDIT_TABLE: tables.audit,
  PENNYWORTH_PUBLIC_URL: 'https://api.example.com',
  PENNYWORTH_COGNITO_USER_POOL_ID: 'us-west-2_Example',
  PENNYWORTH_COGNITO_CLIENT_ID: 'exampleclientid',
  PENNYWORTH_LOG_LEVEL: 'silent',
}
const ddb = new DynamoDBClient({ region: 'us-west-2', endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } })
for (const def of Object.values(tableDefinitions(tables))) await ddb.send(new CreateTableCommand(def))
ddb.destroy()
Object.assign(process.env, env)

function restEvent(method: string, path: string, headers: Record<string, string> = {}) {
  const all = { Host: 'api.example.com', Accept: 'application/json', 'User-Agent': 'bundle-test', 'X-Forwarded-Proto': 'https', ...headers }
  return {
    resource: '/{proxy+}',
    path,
    httpMethod: method,
    headers: all,
    multiValueHeaders: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: path.replace(/^\//, '') },
    stageVariables: null,
    requestContext: {
      resourceId: 'abc', resourcePath: '/{proxy+}', httpMethod: method, path: `/live${path}`, stage: 'live',
      requestId: `req-${Math.random().toString(16).slice(2)}`, requestTimeEpoch: Date.now(), protocol: 'HTTP/1.1',
      accountId: '123456789012', apiId: 'mockapi', domainName: 'api.example.com',
      identity: { sourceIp: '203.0.113.7', userAgent: 'bundle-test' },
    },
    body: null,
    isBase64Encoded: false,
  }
}
const context = { awsRequestId: 'ctx', functionName: 'pennyworth-test-api', getRemainingTimeInMillis: () => 900_000, callbackWaitsForEmptyEventLoop: true }

t.test('bundle: one ESM file with the createRequire banner, ≤ 1 MiB minified', async (t) => {
  t.match(built.outfile, /index\.mjs$/)
  t.ok(built.bytes <= 1024 * 1024, `${(built.bytes / 1024).toFixed(1)} KiB`)
  t.comment(`bundle: ${built.bytes} bytes (${(built.bytes / 1024).toFixed(1)} KiB)`)
  const inputs = Object.keys(built.metafile.inputs)
  t.notOk(inputs.some((f) => /node_modules\/(dynalite|classic-level|@aws-sdk\/nested-clients|@aws-sdk\/credential-provider-(sso|ini|process|web-identity))\//.test(f)), 'no local stand-ins, no unused credential providers')
})

t.test('buffered: REST proxy events without the awslambda global', async (t) => {
  process.env.PENNYWORTH_LAMBDA_STREAMING = 'false'
  const { handler } = await import(`${bundleUrl}?buffered`)
  const health = await handler(restEvent('GET', '/health'), context)
  t.equal(health.statusCode, 200)
  t.same(JSON.parse(health.body), { status: 'ok' })
  t.match(health.headers['content-type'], /application\/json/)
  const models = await handler(restEvent('GET', '/v1/models'), context)
  t.equal(models.statusCode, 401)
  t.equal(JSON.parse(models.body).error.type, 'authentication_error')
})

/** Lambda's framing of a streamed API Gateway response: JSON prelude, 8 NUL bytes, body. */
const DELIMITER = Buffer.alloc(8)
class ResponseStream extends Writable {
  chunks: Buffer[] = []
  contentType?: string
  finished = new Promise<void>((resolve) => this.on('finish', resolve))
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) { this.chunks.push(Buffer.from(chunk)); cb() }
  setContentType(type: string) { this.contentType = type }
  parse() {
    const all = Buffer.concat(this.chunks)
    const at = all.indexOf(DELIMITER)
    if (at < 0) throw new Error('no prelude delimiter in the response stream')
    return { meta: JSON.parse(all.subarray(0, at).toString()), body: all.subarray(at + DELIMITER.length).toString() }
  }
}

t.test('streaming: REST proxy events through streamifyResponse', async (t) => {
  process.env.PENNYWORTH_LAMBDA_STREAMING = 'true'
  const g = globalThis as { awslambda?: unknown }
  g.awslambda = {
    streamifyResponse: (fn: unknown) => fn,
    HttpResponseStream: {
      from(stream: ResponseStream, meta: object) {
        stream.setContentType('application/vnd.awslambda.http-integration-response')
        stream.write(JSON.stringify(meta))
        stream.write(DELIMITER)
        return stream
      },
    },
  }
  t.teardown(() => { delete g.awslambda })
  const { handler } = await import(`${bundleUrl}?streaming`)

  const call = async (path: string) => {
    const stream = new ResponseStream()
    await handler(restEvent('GET', path), stream, context)
    await stream.finished
    t.equal(stream.contentType, 'application/vnd.awslambda.http-integration-response')
    return stream.parse()
  }
  const health = await call('/health')
  t.equal(health.meta.statusCode, 200)
  t.same(JSON.parse(health.body), { status: 'ok' })
  t.notOk('transfer-encoding' in health.meta.headers, 'hop-by-hop headers stripped')
  const models = await call('/v1/models')
  t.equal(models.meta.statusCode, 401)
  t.equal(JSON.parse(models.body).error.type, 'authentication_error')
})

t.test('regression: the SDK pre-creates an empty globalThis.awslambda outside Lambda', async (t) => {
  // @aws/lambda-invoke-store (inside the SDK) runs `globalThis.awslambda ||= {}` on load, so a
  // handler that tests only `awslambda !== undefined` takes the streaming path without a
  // runtime and fails with "streamifyResponse is not a function" when streaming is on.
  const script = `try { await import(${JSON.stringify(bundleUrl)}); console.log('ok') } catch (e) { console.log(String(e.message).slice(0, 200)) }`
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, ...env, PENNYWORTH_LAMBDA_STREAMING: 'true' },
  })
  t.equal(stdout.trim(), 'ok', 'streaming on, no Lambda runtime: must fall back to buffered')
})

/** Cold imports (fresh node each) of `file`, to its top-level await settling: median and minimum. */
async function coldImportMs(file: string, runs = 5): Promise<{ median: number; min: number }> {
  // As in Lambda: the runtime's awslambda global exists before the handler module loads.
  const script = [
    'globalThis.awslambda = { streamifyResponse: (f) => f, HttpResponseStream: { from: (s) => s } }',
    `const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t0)`,
  ].join('\n')
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, ...env, PENNYWORTH_LAMBDA_STREAMING: 'true' },
    })
    times.push(Number(stdout.trim().split('\n').pop()))
  }
  times.sort((a, b) => a - b)
  return { median: times[Math.floor(runs / 2)]!, min: times[0]! }
}

t.test('cold import + ready is in the range of a bare fastify + SDK bundle', async (t) => {
  const bareDir = mkdtempSync(join(ROOT, 'node_modules', '.bare-bundle-'))
  t.teardown(async () => { const { rm } = await import('node:fs/promises'); await rm(bareDir, { recursive: true, force: true }) })
  const entry = join(bareDir, 'entry.mjs')
  writeFileSync(entry, [
    "import Fastify from 'fastify'",
    "import awsLambdaFastify from '@fastify/aws-lambda'",
    "import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'",
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'",
    "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'",
    'const bedrock = new BedrockRuntimeClient({})',
    'const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}))',
    'const app = Fastify()',
    "app.get('/health', async () => ({ status: 'ok', clients: [typeof bedrock, typeof dynamo] }))",
    'await app.ready()',
    'export const handler = awsLambdaFastify(app)',
  ].join('\n'))
  const bareOut = join(bareDir, 'index.mjs')
  const bare = await build(lambdaBuildOptions(entry, bareOut, { minify: true, sourcemap: false }))
  const bareBytes = Object.values(bare.metafile!.outputs)[0]!.bytes
  const app = await coldImportMs(built.outfile)
  const bareMs = await coldImportMs(bareOut)
  t.comment(`bare fastify + aws-lambda + SDK clients: ${bareBytes} bytes, cold import + ready ${bareMs.median.toFixed(1)} ms (median of 5)`)
  t.comment(`pennyworth bundle: ${built.bytes} bytes, cold import + ready ${app.median.toFixed(1)} ms (median of 5)`)
  // A regression guard, not the target: the app also compiles its schemas (catalog, routes)
  // with ajv at load and ready(), which the bare bundle does not; minima are the least noisy.
  t.ok(app.min <= bareMs.min * 3 + 50, `app ${app.min.toFixed(1)} ms vs bare ${bareMs.min.toFixed(1)} ms (minima)`)
})
