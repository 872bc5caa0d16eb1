/**
 * CPU time per call of the whole request path (process.cpuUsage around N injected calls), for
 * before/after comparisons of request-path changes on a loaded machine where wall time is noise.
 * Everything runs in this process (app, dynalite, the Bedrock wire server), so the number is
 * "CPU per call of the lot"; compare two trees with the same settings.
 *
 *   tsx scripts/bench/cpu-per-call.ts              # N=2000 non-streamed + 2000 streamed chat calls
 *   CPU_CALLS=4000 PENNYWORTH_METRICS_EMF=true tsx scripts/bench/cpu-per-call.ts > /dev/null
 *
 * Logs at info to a sink that drops them (as on Lambda, minus the write); EMF lines (if on) go
 * to stdout: redirect it. Results on stderr.
 */
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import { buildApp } from '../../app/app.js'
import { createDocumentClient } from '../../app/clients.js'
import { loadConfig } from '../../app/config.js'
import { loadCatalog } from '../../app/services/catalog.js'
import { startEmbeddedDynamo } from '../../app/store/embedded.js'
import { ensureTables } from '../../app/store/setup.js'
import { converseTextResponse, startBedrockServer, textStreamFrames } from '../../test/helpers/bedrock-server.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const N = Number(process.env.CPU_CALLS ?? 2000)
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' }
const dynamo = await startEmbeddedDynamo()
const bedrock = await startBedrockServer((call) =>
  call.operation === 'converse-stream'
    ? { frames: textStreamFrames(['Hel', 'lo', ' there']) }
    : { json: converseTextResponse('Hello there') },
)
const config = loadConfig(
  { ...process.env, PENNYWORTH_LOG_LEVEL: 'info' },
  { mockModels: false, lambdaStreaming: false },
)
const doc = createDocumentClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials })
await ensureTables(doc, config.tables)
const app = await buildApp({
  config,
  catalog: loadCatalog(),
  clients: {
    dynamo: doc,
    bedrock: new BedrockRuntimeClient({ endpoint: bedrock.url, region: 'us-east-1', credentials, maxAttempts: 1 }),
  },
  logger: { level: 'info', stream: { write: () => undefined } },
})
await app.ready()
const { key } = await app.keys.create({ name: 'bench', owner: 'bench', models: ['*'] })
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' }

async function run(stream: boolean, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers,
      payload: { model: 'claude-haiku-4-5', stream, messages: [{ role: 'user', content: `q${i}` }] },
    })
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${res.body}`)
  }
  await app.flushBackground()
}

for (const stream of [false, true]) {
  await run(stream, 200) // warm-up: JIT, caches, first flush
  const before = process.cpuUsage()
  const t0 = performance.now()
  await run(stream, N)
  const cpu = process.cpuUsage(before)
  const ms = (cpu.user + cpu.system) / 1000
  process.stderr.write(
    `${stream ? 'stream    ' : 'non-stream'}: ${N} calls, CPU ${(ms / N).toFixed(3)} ms/call` +
      ` (user ${(cpu.user / 1000 / N).toFixed(3)}, system ${(cpu.system / 1000 / N).toFixed(3)}),` +
      ` wall ${((performance.now() - t0) / N).toFixed(2)} ms/call\n`,
  )
}
await app.close()
doc.destroy()
await bedrock.close()
await dynamo.close()
