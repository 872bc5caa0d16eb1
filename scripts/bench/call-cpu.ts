/**
 * CPU per call of the gateway's request path (`npx tsx scripts/bench/call-cpu.ts`): the real app
 * with the production Bedrock client (clients.ts createBedrockClient), N calls injected with
 * `app.inject` (no sockets on the client side), the Bedrock stand-in and the DynamoDB-API store
 * each in their own process so only the gateway's CPU is counted (process.cpuUsage around the
 * N calls). Reports CPU, not wall time: the machine is shared, CPU per call is what the change
 * can move. Not a test. BENCH_REQUESTS (default 2000), BENCH_ROUNDS (default 3).
 */
import '../../app/lib/sdk-node-warning.js'
import { spawn } from 'node:child_process'
import { buildApp } from '../../app/app.js'
import { createBedrockClient, createDocumentClient } from '../../app/clients.js'
import { loadConfig } from '../../app/config.js'
import { loadCatalog } from '../../app/services/catalog.js'
import { ensureTables } from '../../app/store/setup.js'

const N = Number(process.env.BENCH_REQUESTS ?? 2000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const credentials = { accessKeyId: 'A', secretAccessKey: 'B' }

function child(script: string): Promise<{ url: string; stop(): void }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', new URL(script, import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve) => {
    let out = ''
    proc.stdout.on('data', (d) => {
      out += d
      const m = /^(http\S+)\n/m.exec(out)
      if (m) resolve({ url: m[1], stop: () => proc.kill('SIGTERM') })
    })
  })
}

const [upstream, dynamoProc] = await Promise.all([child('./upstream-process.ts'), child('./dynamo-process.ts')])
const config = loadConfig({ PENNYWORTH_LOG_LEVEL: 'silent' }, { mockModels: false, lambdaStreaming: false })
const dynamo = createDocumentClient({ endpoint: dynamoProc.url, region: 'us-east-1', credentials })
await ensureTables(dynamo, config.tables)
const bedrock = createBedrockClient({ endpoint: upstream.url, region: 'us-east-1', credentials })
const app = await buildApp({ config, catalog: loadCatalog(), clients: { dynamo, bedrock }, logger: false })
await app.ready()
const { key } = await app.keys.create({ name: 'bench', owner: 'bench', models: ['*'] })

const call = (stream: boolean) =>
  app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hello' }], stream },
  })

for (const stream of [false, true]) {
  for (let i = 0; i < 200; i++) await call(stream) // warm-up
  const perCall: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const cpu0 = process.cpuUsage()
    for (let i = 0; i < N; i++) {
      const res = await call(stream)
      if (res.statusCode !== 200) throw new Error(`call failed: ${res.statusCode} ${res.body}`)
    }
    const cpu = process.cpuUsage(cpu0)
    perCall.push((cpu.user + cpu.system) / 1000 / N)
  }
  const fmt = perCall.map((x) => x.toFixed(3)).join(', ')
  console.log(
    `${stream ? 'stream    ' : 'non-stream'}: gateway CPU ${fmt} ms/call (min ${Math.min(...perCall).toFixed(3)})`,
  )
}
await app.close()
bedrock.destroy()
dynamo.destroy()
upstream.stop()
dynamoProc.stop()
