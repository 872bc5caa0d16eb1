/**
 * The Lambda bundle as it is deployed: `scripts/build-lambda.ts` builds app/lambda.ts into a temp
 * dir (entry index.mjs + chunks/); the test imports the entry and answers API Gateway REST proxy
 * events, buffered (no `awslambda` global) and streamed (a shim of the runtime's `awslambda` that
 * frames the response like Lambda does for API Gateway: JSON prelude, 8 NUL bytes, body).
 * DynamoDB is an in-process dynalite. Also checks what a cold start loads (size; no MCP SDK,
 * Cognito client or jose, by the metafile and by the files Node really reads) and measures
 * cold import + ready time against a bare fastify + @fastify/aws-lambda + SDK bundle built the
 * same way (scripts/cold-start.ts, shared with `npx tsx scripts/bench/cold-start.ts`, which
 * measures it properly).
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import dynalite from 'dynalite'
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { ROOT, REQUIRE_BANNER, buildLambda, packageOf } from '../../scripts/build-lambda.js'
import { buildBareBundle, coldStartSample, restEvent, stats } from '../../scripts/cold-start.js'
import { createDocumentClient } from '../../app/clients.js'
import { KeyService } from '../../app/services/keys.js'
import { KeyStore } from '../../app/store/keys.js'
import { tableDefinitions } from '../../app/store/tables.js'
import { startBedrockServer } from '../helpers/bedrock-server.js'
import { startTestS3 } from '../helpers/s3.js'

const run = promisify(execFile)
const outdir = mkdtempSync(join(tmpdir(), 'lambda-bundle-'))
const built = await buildLambda({ outdir })
const bundleUrl = pathToFileURL(built.outfile).href

// --- DynamoDB stand-in and the environment infra gives the function ---------------------------
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
const { port } = server.address() as { port: number }
const tables = {
  keys: 'bt-keys',
  usage: 'bt-usage',
  rateLimits: 'bt-rate-limits',
  audit: 'bt-audit',
  responses: 'bt-responses',
  oauth: 'bt-oauth',
}
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
  PENNYWORTH_RESPONSES_TABLE: tables.responses,
  PENNYWORTH_OAUTH_TABLE: tables.oauth,
  PENNYWORTH_PUBLIC_URL: 'https://api.example.com',
  PENNYWORTH_COGNITO_USER_POOL_ID: 'us-west-2_Example',
  PENNYWORTH_COGNITO_CLIENT_ID: 'exampleclientid',
  PENNYWORTH_LOG_LEVEL: 'silent',
}
const ddb = new DynamoDBClient({
  region: 'us-west-2',
  endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
})
for (const def of Object.values(tableDefinitions(tables))) await ddb.send(new CreateTableCommand(def))
ddb.destroy()
// A key for the routes behind authentication (MCP).
const doc = createDocumentClient({
  region: 'us-west-2',
  endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
})
const { key } = await new KeyService(new KeyStore(doc, tables.keys), { cacheTtlMs: 0 }).create({
  name: 'bundle',
  owner: 'tester',
  models: ['*'],
})
doc.destroy()
Object.assign(process.env, env)

const context = {
  awsRequestId: 'ctx',
  functionName: 'pennyworth-test-api',
  getRemainingTimeInMillis: () => 900_000,
  callbackWaitsForEmptyEventLoop: true,
}

/** Modules only a request that needs them may load: never part of what a cold start imports. */
const LAZY = new RegExp(
  [
    /node_modules\/(@modelcontextprotocol\/sdk|zod|zod-to-json-schema|jose)\//.source,
    /node_modules\/@aws-sdk\/client-(cognito-identity-provider|s3)\//.source,
    // The schema compilers load with the first request to a route with a schema (Fastify's own
    // error serializer needs only fast-json-stringify's runtime serializer).
    /node_modules\/(ajv|ajv-formats|@fastify\/fast-json-stringify-compiler)\//.source,
    /node_modules\/fast-json-stringify\/(?!lib\/(serializer|v8)\.js$)/.source,
    /^app\/services\/catalog-file\.ts/.source,
    /^app\/(mcp\/(server|tools\/)|services\/(cognito-sdk|jose)\.ts|store\/s3-sdk\.ts)/.source,
    // The Messages and Responses doors' codecs (not their error rendering) and handlers, stored
    // responses, the admin API and the mock model load with their first request.
    /^app\/doors\/(anthropic|openai-responses)\/(?!errors\.ts)/.source,
    /^app\/(routes\/openai\/responses-handlers\.ts|services\/(admin|responses|users)\.ts)/.source,
    /^app\/(store\/(audit|responses)\.ts|providers\/mock\/index\.ts)/.source,
    // The web console's handlers (headers, file reads, local sign-in) load with the first console request.
    /^app\/(routes\/console-handlers|services\/console-login)\.ts/.source,
    // The MCP OAuth facade's service and store load with its first request (routes/oauth.ts stays).
    /^app\/(services|store)\/oauth\.ts/.source,
  ].join('|'),
)
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`
const coldBytes = built.coldStart.reduce((sum, f) => sum + f.bytes, 0)

t.test('bundle: ESM entry + chunks; what a cold start imports is ≤ 0.86 MB minified', async (t) => {
  t.match(built.outfile, /index\.mjs$/)
  t.equal(built.files[0]!.file, 'index.mjs', 'the entry')
  t.ok(built.coldStart.length > 0 && built.coldStart[0]!.file === 'index.mjs')
  // The target of the Lambda bundle: the entry and the chunks it imports statically, i.e.
  // everything a cold start reads and compiles. Lazily loaded chunks are not counted.
  // A guard against eager imports; the measure that matters is cold import + ready against the
  // bare bundle (below) and `npm run bench`. Raised from 1 MB when crash-safe metering and the
  // Messages and Responses doors' route registrations arrived (1,001,476 bytes then). Raised to
  // 1.1 MB in session 9 (1,080,131 bytes with metrics and the console): the S3 client for s3://
  // references is a lazy chunk, but esbuild tree-shakes per build, not per chunk, so the XML
  // parts of @aws-sdk/core and @smithy/core it needs ride in the shared cold chunks (+24 KB); the
  // OAuth facade's routes (its service and store load on first use) and the config table's doc
  // strings (+7.6 KB) load eagerly. Lowered to 0.86 MB in session 10 (823,322 bytes, less than
  // the bare fastify + SDK bundle's 898,100): the S3 client is a separate bundle (s3/,
  // SEPARATE_BUNDLES in scripts/build-lambda.ts; -24 KB), and ajv and fast-json-stringify load
  // with the first request to a route with a schema (app/plugins/lazy-validation.ts; -210 KB).
  t.ok(coldBytes <= 860_000, `cold start: ${coldBytes} bytes (${built.coldStart.length} files)`)
  t.ok(built.bytes <= 1_000_000, `entry: ${built.bytes} bytes`)
  t.comment(`entry index.mjs: ${built.bytes} bytes (${kib(built.bytes)})`)
  t.comment(
    `cold start (entry + ${built.coldStart.length - 1} statically imported chunks): ` +
      `${coldBytes} bytes (${kib(coldBytes)})`,
  )
  t.comment(`all ${built.files.length} files: ${built.totalBytes} bytes (${kib(built.totalBytes)})`)
  for (const f of built.files)
    t.comment(`  ${f.file}: ${f.bytes} bytes${built.coldStart.includes(f) ? ' (cold start)' : ''}`)
  const inputs = Object.keys(built.metafile.inputs)
  t.notOk(
    inputs.some(
      (f) =>
        /node_modules\/(dynalite|classic-level|@fastify\/ajv-compiler|@aws-sdk\/nested-clients)\//.test(f) ||
        /node_modules\/@aws-sdk\/credential-provider-(sso|ini|process|web-identity)\//.test(f),
    ),
    'no local stand-ins, no unused credential providers, no unused validator compiler',
  )
  for (const f of built.files) {
    t.ok(readFileSync(join(built.outdir, f.file), 'utf8').startsWith(REQUIRE_BANNER), `${f.file}: createRequire banner`)
  }
})

t.test(
  'bundle: the MCP SDK, the Cognito and S3 clients and jose are chunks a cold start does not import',
  async (t) => {
    const coldInputs = built.coldStart.flatMap((f) => f.inputs)
    t.same(
      coldInputs.filter((i) => LAZY.test(i)),
      [],
      'no lazy module in the entry or its static imports',
    )
    const lazyChunks = built.files.filter((f) => !built.coldStart.includes(f))
    const lazyPackages = new Set(lazyChunks.flatMap((f) => f.inputs).map((i) => packageOf(i) ?? i))
    for (const pkg of [
      '@modelcontextprotocol/sdk',
      'zod',
      '@aws-sdk/client-cognito-identity-provider',
      '@aws-sdk/client-s3',
      'ajv',
      'fast-json-stringify',
      'jose',
      'app/mcp/tools/index.ts',
    ]) {
      t.ok(lazyPackages.has(pkg), `${pkg} is bundled, in a chunk loaded on first use`)
    }
    // What the hot path needs stays in the cold start.
    for (const input of [
      'app/plugins/auth.ts',
      'app/services/chat.ts',
      'app/services/embeddings.ts',
      'app/services/metering.ts',
      'app/providers/bedrock/provider.ts',
    ]) {
      t.ok(coldInputs.includes(input), `${input} loads at start`)
    }
  },
)

t.test(
  'bundle: every file links (cold chunks merged into chunks/cold.mjs; no import names a missing file or export)',
  async (t) => {
    t.same(
      built.coldStart.map((f) => f.file),
      ['index.mjs', 'chunks/cold.mjs'],
      'a cold start loads two files (scripts/merge-cold-chunks.ts)',
    )
    // Loading a module links all its static imports (a missing file or export fails there).
    const urls = built.files.map((f) => pathToFileURL(join(built.outdir, f.file)).href)
    const script = [
      'const failed = []',
      `for (const url of ${JSON.stringify(urls)}) {`,
      '  try { await import(url) } catch (e) { failed.push(url + ": " + String(e?.message).slice(0, 200)) }',
      '}',
      'console.log(JSON.stringify(failed))',
    ].join('\n')
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, ...env, PENNYWORTH_LAMBDA_STREAMING: 'false' },
    })
    t.same(JSON.parse(stdout.trim().split('\n').pop()!), [], `all ${urls.length} files load`)
  },
)

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

t.test('the console ships beside index.mjs and is served from it, with its CSP', async (t) => {
  const index = readFileSync(join(built.outdir, 'console', 'index.html'), 'utf8')
  const js = /src="assets\/(main-[A-Z0-9]+\.js)"/.exec(index)?.[1]
  t.ok(js, 'index.html names a hashed script')
  process.env.PENNYWORTH_LAMBDA_STREAMING = 'false'
  const { handler } = await import(`${bundleUrl}?console`)
  const page = await handler(restEvent('GET', '/console/', { Accept: 'text/html' }), context)
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-security-policy'], /default-src 'none'.*frame-ancestors 'none'/)
  t.equal(page.headers['cache-control'], 'no-cache')
  t.match(page.body, /<meta name="pennyworth-console" content="\{&quot;signIn&quot;:&quot;none&quot;/)
  const asset = await handler(restEvent('GET', `/console/assets/${js}`), context)
  t.equal(asset.statusCode, 200)
  t.match(asset.headers['cache-control'], /immutable/)
  t.equal(asset.body.length, readFileSync(join(built.outdir, 'console', 'assets', js!), 'utf8').length)
  const local = await handler(
    restEvent('POST', '/console/local-session', { 'Content-Type': 'application/json' }, '{"login":"x"}'),
    context,
  )
  t.equal(local.statusCode, 404, 'no local sign-in on Lambda')
})

/** Lambda's framing of a streamed API Gateway response: JSON prelude, 8 NUL bytes, body. */
const DELIMITER = Buffer.alloc(8)
class ResponseStream extends Writable {
  chunks: Buffer[] = []
  contentType?: string
  finished = new Promise<void>((resolve) => this.on('finish', resolve))
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.chunks.push(Buffer.from(chunk))
    cb()
  }
  setContentType(type: string) {
    this.contentType = type
  }
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
  t.teardown(() => {
    delete g.awslambda
  })
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
  const script =
    `try { await import(${JSON.stringify(bundleUrl)}); console.log('ok') } catch (e) { ` +
    `console.log(String(e.message).slice(0, 200)) }`
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, ...env, PENNYWORTH_LAMBDA_STREAMING: 'true' },
  })
  t.equal(stdout.trim(), 'ok', 'streaming on, no Lambda runtime: must fall back to buffered')
})

t.test('runtime: a cold start reads only the cold-start files; MCP and JWT requests load their chunks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-loads-'))
  const log = join(dir, 'loaded.log')
  // Module hooks (they run on a loader thread) log every file URL Node loads.
  const hooks = join(dir, 'hooks.mjs')
  writeFileSync(
    hooks,
    [
      "import { appendFileSync } from 'node:fs'",
      `export async function load (url, context, next) { if (url.startsWith('file:')) ` +
        `appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context) }`,
    ].join('\n'),
  )
  writeFileSync(log, '')
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')
  const claims = Buffer.from(JSON.stringify({ sub: 'someone', token_use: 'access', exp: 4102444800 })).toString(
    'base64url',
  )
  const events = {
    mcp: restEvent(
      'POST',
      '/v1/mcp',
      {
        Authorization: `Bearer ${key}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
      },
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bundle-test', version: '1' } },
      }),
    ),
    jwt: restEvent('GET', '/v1/admin/me', { Authorization: `Bearer ${header}.${claims}.c2ln` }),
  }
  const eventsFile = join(dir, 'events.json')
  writeFileSync(eventsFile, JSON.stringify(events))
  const script = [
    "import { register } from 'node:module'",
    "import { readFileSync } from 'node:fs'",
    `register(${JSON.stringify(pathToFileURL(hooks).href)})`,
    `const loaded = () => readFileSync(${JSON.stringify(log)}, 'utf8').split('\\n').filter(Boolean)`,
    `const events = JSON.parse(readFileSync(${JSON.stringify(eventsFile)}, 'utf8'))`,
    `const { handler } = await import(${JSON.stringify(bundleUrl)})`,
    'const cold = loaded()',
    "const context = { awsRequestId: 'ctx', getRemainingTimeInMillis: () => 900000 }",
    'const mcp = await handler(events.mcp, context)',
    'const afterMcp = loaded()',
    'const jwt = await handler(events.jwt, context)',
    'const afterJwt = loaded()',
    'console.log(JSON.stringify({ cold, mcp, afterMcp, jwt, afterJwt }))',
  ].join('\n')
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, ...env, PENNYWORTH_LAMBDA_STREAMING: 'false' },
  })
  const out = JSON.parse(stdout.trim().split('\n').pop()!) as Record<'cold' | 'afterMcp' | 'afterJwt', string[]> &
    Record<'mcp' | 'jwt', { statusCode: number; body: string }>
  const files = (urls: string[]) =>
    [
      ...new Set(
        urls
          .filter((u) => u.startsWith(pathToFileURL(built.outdir).href))
          .map((u) => relative(built.outdir, fileURLToPath(u))),
      ),
    ].sort()
  const byFile = new Map(built.files.map((f) => [f.file, f]))
  const lazyIn = (names: string[]) => names.filter((n) => byFile.get(n)!.inputs.some((i) => LAZY.test(i)))

  t.same(
    files(out.cold),
    built.coldStart.map((f) => f.file).sort(),
    'a cold start reads exactly the entry and its static imports',
  )
  t.same(lazyIn(files(out.cold)), [], 'no MCP, Cognito or jose chunk')

  t.equal(out.mcp.statusCode, 200, 'MCP initialize through the bundle')
  t.equal(JSON.parse(out.mcp.body).result.serverInfo.name, 'pennyworth')
  const mcpChunks = files(out.afterMcp).filter((f) => !files(out.cold).includes(f))
  t.ok(
    mcpChunks.some((f) => byFile.get(f)!.inputs.some((i) => i.includes('node_modules/@modelcontextprotocol/sdk/'))),
    `the first MCP request loads the SDK: ${mcpChunks.join(', ')}`,
  )
  t.ok(
    mcpChunks.some((f) => byFile.get(f)!.inputs.includes('app/mcp/tools/index.ts')),
    'and the tools',
  )

  t.equal(out.jwt.statusCode, 401, 'a forged token is refused')
  t.equal(JSON.parse(out.jwt.body).error.code, 'invalid_token')
  const jwtChunks = files(out.afterJwt).filter((f) => !files(out.afterMcp).includes(f))
  t.ok(
    jwtChunks.some((f) => byFile.get(f)!.inputs.some((i) => i.includes('node_modules/jose/'))),
    `the first JWT loads jose: ${jwtChunks.join(', ')}`,
  )
  t.notOk(
    files(out.afterJwt).some((f) =>
      byFile.get(f)!.inputs.some((i) => i.includes('node_modules/@aws-sdk/client-cognito-identity-provider/')),
    ),
    'the Cognito client is still not loaded (only user administration needs it)',
  )
})

t.test(
  'runtime: an s3:// reference loads the S3 client from its own bundle (s3/), never at a cold start',
  async (t) => {
    const s3 = await startTestS3(t, ['bundle-bucket'])
    const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 9, 8, 7])
    await s3.put('bundle-bucket', 'cat.png', PNG, 'image/png')
    const bedrock = await startBedrockServer()
    t.teardown(() => bedrock.close())
    const dir = mkdtempSync(join(tmpdir(), 'lambda-s3-'))
    const log = join(dir, 'loaded.log')
    const hooks = join(dir, 'hooks.mjs')
    writeFileSync(
      hooks,
      "import { appendFileSync } from 'node:fs'\n" +
        `export async function load (url, context, next) { if (url.startsWith('file:')) ` +
        `appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context) }`,
    )
    writeFileSync(log, '')
    const event = restEvent(
      'POST',
      '/v1/chat/completions',
      { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      JSON.stringify({
        model: 'claude-haiku-4-5',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this?' },
              { type: 'image_url', image_url: { url: 's3://bundle-bucket/cat.png' } },
            ],
          },
        ],
      }),
    )
    const script = [
      "import { register } from 'node:module'",
      "import { readFileSync } from 'node:fs'",
      `register(${JSON.stringify(pathToFileURL(hooks).href)})`,
      `const loaded = () => readFileSync(${JSON.stringify(log)}, 'utf8').split('\\n').filter(Boolean)`,
      `const { handler } = await import(${JSON.stringify(bundleUrl)})`,
      'const cold = loaded()',
      "const context = { awsRequestId: 'ctx', getRemainingTimeInMillis: () => 900000 }",
      `const res = await handler(${JSON.stringify(event)}, context)`,
      'console.log(JSON.stringify({ cold, res, after: loaded() }))',
    ].join('\n')
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        ...env,
        // s3rver checks signatures against its own key pair; dynalite and the Bedrock server take any.
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.url,
        PENNYWORTH_S3_BUCKETS: 'bundle-bucket',
        PENNYWORTH_LAMBDA_STREAMING: 'false',
      },
    })
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as {
      cold: string[]
      after: string[]
      res: { statusCode: number; body: string }
    }
    const files = (urls: string[]) =>
      urls
        .filter((u) => u.startsWith(pathToFileURL(built.outdir).href))
        .map((u) => relative(built.outdir, fileURLToPath(u)))
    t.notOk(
      files(out.cold).some((f) => f.startsWith('s3/')),
      'a cold start loads nothing of the S3 bundle',
    )
    t.equal(out.res.statusCode, 200, out.res.body.slice(0, 300))
    t.ok(files(out.after).includes('s3/index.mjs'), 'the first s3:// read loads s3/index.mjs')
    const image = bedrock.calls.at(-1)!.body.messages[0].content[1].image
    t.equal(image.format, 'png')
    t.same(Buffer.from(image.source.bytes, 'base64'), Buffer.from(PNG), 'the bytes read from S3 reach Bedrock')
  },
)

t.test('cold import + ready is in the range of a bare fastify + SDK bundle', async (t) => {
  const bareDir = mkdtempSync(join(ROOT, 'node_modules', '.bare-bundle-'))
  t.teardown(async () => {
    const { rm } = await import('node:fs/promises')
    await rm(bareDir, { recursive: true, force: true })
  })
  const bare = await buildBareBundle(bareDir)
  const coldImportMs = async (file: string) =>
    (await coldStartSample(file, { ...env, PENNYWORTH_LAMBDA_STREAMING: 'true' })).importMs
  const bareColdBytes = bare.coldBytes
  // Interleaved, so that load from other tests slows both alike. A real regression is slower in
  // every round; other load on a shared 2-core machine rarely is, so up to three rounds are run
  // and the first one within the limit counts. The number (and the 1.2 × target of issue 15) is
  // measured by `npx tsx scripts/bench/cold-start.ts` (docs/benchmark.md, "Cold start").
  const runs = 7
  const withinLimit = (a: number, b: number) => a <= b * 1.5 + 10
  let app = { median: Infinity, min: Infinity }
  let bareMs = { median: 0, min: 0 }
  for (let round = 0; round < 3 && !withinLimit(app.min, bareMs.min); round++) {
    const appTimes: number[] = []
    const bareTimes: number[] = []
    for (let i = 0; i < runs; i++) {
      appTimes.push(await coldImportMs(built.outfile))
      bareTimes.push(await coldImportMs(bare.outfile))
    }
    app = stats(appTimes)
    bareMs = stats(bareTimes)
    t.comment(
      `round ${round + 1}: bare fastify + aws-lambda + SDK clients: cold start ` +
        `${bareColdBytes} bytes, cold import + ready ${bareMs.median.toFixed(1)} ms (median ` +
        `of ${runs}; min ${bareMs.min.toFixed(1)})`,
    )
    t.comment(
      `round ${round + 1}: pennyworth: cold start ${coldBytes} bytes, cold import + ready ` +
        `${app.median.toFixed(1)} ms (median of ${runs}; min ${app.min.toFixed(1)})`,
    )
  }
  // A regression guard: the app adds its routes (registered, compiled on first use), a pino
  // logger with redaction and its own code to the bare bundle. Minima are the least noisy.
  t.ok(
    withinLimit(app.min, bareMs.min),
    `app ${app.min.toFixed(1)} ms vs bare ${bareMs.min.toFixed(1)} ms (minima; limit 1.5 × bare + 10 ms)`,
  )
})
