/**
 * pennyworth for the benchmark, in its own process so its memory and CPU can be read from
 * /proc: the same buildApp with DEFAULT settings, the Bedrock client from clients.ts (the
 * default handler), DynamoDB at BENCH_DYNAMO, Bedrock at BENCH_UPSTREAM. Prints
 * `READY <url> <key>`; answers `backlog` IPC messages with the metering backlog and `stats` with the
 * DynamoDB commands sent so far by name (writes per call are deterministic evidence, unlike req/s).
 */
import { Writable } from 'node:stream'
import { buildApp } from '../../app/app.js'
import { createBedrockClient, createDocumentClient } from '../../app/clients.js'
import { loadConfig } from '../../app/config.js'
import { loadCatalog } from '../../app/services/catalog.js'
import { ensureTables } from '../../app/store/setup.js'

const credentials = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' }
const config = loadConfig(
  { PENNYWORTH_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' },
  { mockModels: false, lambdaStreaming: false },
)
// Logs are produced (pino runs) but not printed, so the terminal is not the bottleneck.
const sink = new Writable({
  write(_c, _e, cb) {
    cb()
  },
})
const dynamo = createDocumentClient({ endpoint: process.env.BENCH_DYNAMO, region: 'us-east-1', credentials })
const commands: Record<string, number> = {}
dynamo.middlewareStack.add(
  (next, context) => (args) => {
    commands[context.commandName ?? '?'] = (commands[context.commandName ?? '?'] ?? 0) + 1
    return next(args)
  },
  { step: 'initialize', name: 'benchCountCommands' },
)
await ensureTables(dynamo, config.tables)
const app = await buildApp({
  config,
  catalog: loadCatalog(),
  clients: {
    dynamo,
    bedrock: createBedrockClient({ endpoint: process.env.BENCH_UPSTREAM, region: 'us-east-1', credentials }),
  },
  logger: { level: config.logLevel, stream: sink },
})
const url = await app.listen({ host: '127.0.0.1', port: 0 })
const { key } = await app.keys.create({ name: 'bench', owner: 'bench' })
process.on('message', (m) => {
  if (m === 'backlog') process.send!({ backlog: app.meteringBacklog() })
  if (m === 'stats') process.send!({ stats: { ...commands } })
})
process.stdout.write(`READY ${url} ${key}\n`)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
