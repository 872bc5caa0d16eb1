/**
 * Cold start of a Lambda bundle, measured the same way by test/scripts/build-lambda.test.ts (a
 * loose regression guard) and by scripts/bench/cold-start.ts (`npm run bench`, the number):
 * - the bare baseline: fastify + @fastify/aws-lambda + the Bedrock and DynamoDB SDK clients,
 *   bundled with the app's esbuild options (scripts/build-lambda.ts), what any gateway of this
 *   shape loads before its own code;
 * - one sample = one fresh `node` process that imports the bundle (its top-level await is the
 *   app's `ready()`), then optionally hands the handler one API Gateway event, as the Lambda
 *   runtime does on a cold start.
 */
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import { describeOutputs, lambdaBuildOptions, type OutputFile } from './build-lambda.js'

const run = promisify(execFile)

/** The bare baseline's entry: what every fastify-on-Lambda gateway with these SDK clients loads. */
export const BARE_ENTRY = [
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
].join('\n')

export interface BareBundle {
  /** `<dir>/out/index.mjs`. */
  outfile: string
  coldStart: OutputFile[]
  /** Bytes of the files a cold start loads. */
  coldBytes: number
}

/**
 * Builds the bare baseline into `<dir>/out` with the app's esbuild options (minified, no source
 * map). `dir` must sit inside the repository (e.g. under node_modules/) so that esbuild resolves
 * the packages from the entry.
 */
export async function buildBareBundle(dir: string): Promise<BareBundle> {
  await mkdir(dir, { recursive: true })
  const entry = join(dir, 'entry.mjs')
  await writeFile(entry, BARE_ENTRY)
  const outdir = join(dir, 'out')
  const result = await build(lambdaBuildOptions(entry, outdir, { minify: true, sourcemap: false }))
  const { coldStart } = describeOutputs(result.metafile!, outdir)
  return { outfile: join(outdir, 'index.mjs'), coldStart, coldBytes: coldStart.reduce((s, f) => s + f.bytes, 0) }
}

/**
 * A request as API Gateway REST (proxy integration) hands it to the function
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html).
 * Used by the cold-start sample (GET /health) and the bundle test.
 */
export function restEvent(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body: string | null = null,
): object {
  const all = {
    Host: 'api.example.com',
    Accept: 'application/json',
    'User-Agent': 'bundle-test',
    'X-Forwarded-Proto': 'https',
    ...headers,
  }
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
      resourceId: 'abc',
      resourcePath: '/{proxy+}',
      httpMethod: method,
      path: `/live${path}`,
      stage: 'live',
      requestId: `req-${Math.random().toString(16).slice(2)}`,
      requestTimeEpoch: Date.now(),
      protocol: 'HTTP/1.1',
      accountId: '123456789012',
      apiId: 'mockapi',
      domainName: 'api.example.com',
      identity: { sourceIp: '203.0.113.7', userAgent: 'bundle-test' },
    },
    body,
    isBase64Encoded: false,
  }
}

/** One cold start, in ms from the first line of the importing script. */
export interface ColdSample {
  /** `import()` of the bundle, its top-level await (the app's `ready()`) included. */
  importMs: number
  /** From the end of the import to the end of the first response (GET /health), when asked. */
  firstRequestMs?: number
}

/**
 * One cold start of `file` in a fresh `node`. As in Lambda, the runtime's `awslambda` global exists
 * before the handler module loads (a pass-through shim: a streamed response goes to a sink).
 * With `request`, the handler then answers one GET /health; a handler with 3 parameters is a
 * streamed one (`(event, responseStream, context)`), else buffered (`(event, context)`).
 */
export async function coldStartSample(
  file: string,
  env: Record<string, string>,
  opts: { request?: boolean } = {},
): Promise<ColdSample> {
  const script = [
    "import { Writable } from 'node:stream'",
    'globalThis.awslambda = { streamifyResponse: (f) => f, HttpResponseStream: { from: (s) => s } }',
    'const t0 = performance.now()',
    `const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)})`,
    'const t1 = performance.now()',
    'let t2',
    `if (${opts.request === true}) {`,
    "  const context = { awsRequestId: 'cold', getRemainingTimeInMillis: () => 900000 }",
    `  const event = ${JSON.stringify(restEvent('GET', '/health'))}`,
    '  let body = ""',
    '  if (handler.length >= 3) {',
    '    const sink = new Writable({ write (c, _e, cb) { body += c; cb() } })',
    "    const done = new Promise((resolve) => sink.on('finish', resolve))",
    '    await handler(event, sink, context)',
    '    await done',
    '  } else body = (await handler(event, context)).body',
    "  if (!body.includes('\"ok\"')) throw new Error('GET /health: ' + body.slice(0, 200))",
    '  t2 = performance.now()',
    '}',
    'console.log(JSON.stringify({ importMs: t1 - t0, firstRequestMs: t2 === undefined ? undefined : t2 - t1 }))',
  ].join('\n')
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
  })
  return JSON.parse(stdout.trim().split('\n').pop()!) as ColdSample
}

/** Median and minimum of some samples. */
export function stats(xs: number[]): { median: number; min: number } {
  const sorted = [...xs].sort((a, b) => a - b)
  return { median: sorted[Math.floor(sorted.length / 2)] ?? NaN, min: sorted[0] ?? NaN }
}
