/**
 * Local entry point (`npm start`): the same app as on Lambda, listening on HOST:PORT, with an
 * embedded DynamoDB-API store on disk unless AWS_ENDPOINT_URL_DYNAMODB points elsewhere. On
 * first start it mints a key for all models and prints it once.
 */
import './lib/sdk-node-warning.js' // first: before any AWS SDK client exists
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LocalConsoleLogin } from './services/console-login.js'
import { buildApp } from './app.js'
import { recordLocalEndpoint } from './store/local-endpoint.js'
import { createBedrockClient, createCognitoClient, createDocumentClient, createS3Client } from './clients.js'
import { ConfigError, loadConfig, type Config, type ConfigDefaults } from './config.js'
import { loadCatalogFile } from './services/catalog-file.js'
import { KeyService } from './services/keys.js'
import { startEmbeddedStore, type EmbeddedDynamo } from './store/embedded.js'
import { KeyStore } from './store/keys.js'
import { ensureTables } from './store/setup.js'

export interface LocalServer {
  url: string
  /** The dev key when this start minted one (empty data dir), else undefined. */
  devKey: string | undefined
  /**
   * A new one-time console sign-in link (`<url>/console/#login=…`); undefined when the server
   * listens on a non-loopback address (local sign-in is refused there).
   */
  consoleLink(): string | undefined
  /** Where the embedded store runs (PENNYWORTH_LOCAL_STORE); undefined with AWS_ENDPOINT_URL_DYNAMODB. */
  store: EmbeddedDynamo['host'] | undefined
  close(): Promise<void>
}

/** Starts the gateway locally; used by `npm start` and by tests that need a real listener. */
/** Where `npm run build:console` writes the console (npm start builds it first). */
export const CONSOLE_DIR = fileURLToPath(new URL('../dist/console', import.meta.url))

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1)$/

/**
 * @param onStaleLink called (at most every 10 s) with a fresh link when a used or expired one is
 *   tried, for the terminal.
 */
export async function startLocalServer(
  config: Readonly<Config>,
  env: Record<string, string | undefined> = process.env,
  opts: {
    consoleDir?: string
    onStaleLink?: (link: string) => void
    /** The store's worker or child stopped unasked (default: print why and exit 1). */
    onStoreExit?: (reason: string) => void
  } = {},
): Promise<LocalServer> {
  const catalog = loadCatalogFile(config.catalogPath)
  let embedded: EmbeddedDynamo | undefined
  let forgetEndpoint: (() => void) | undefined
  if (!env.AWS_ENDPOINT_URL_DYNAMODB) {
    // Off the request thread by default: its JSON and LevelDB work for every metering write
    // would otherwise share this event loop (docs/benchmark.md "Local mode store").
    embedded = await startEmbeddedStore({
      path: resolve(config.dataDir, 'dynamodb'),
      host: config.localStore,
      onExit:
        opts.onStoreExit ??
        ((reason) => {
          console.error(`${reason}; stopping`)
          process.exit(1)
        }),
    })
    // Lets `pennyworth keys … --local` reach the store while this server holds it open.
    forgetEndpoint = recordLocalEndpoint(config.dataDir, embedded.endpoint)
  }
  // The embedded store accepts any credentials; real DynamoDB gets the default chain.
  const dynamo = createDocumentClient(
    embedded
      ? {
          endpoint: embedded.endpoint,
          region: env.AWS_REGION ?? 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {},
  )
  const createdTables = await ensureTables(dynamo, config.tables)

  let devKey: string | undefined
  if (createdTables.includes(config.tables.keys)) {
    const keys = new KeyService(new KeyStore(dynamo, config.tables.keys), { cacheTtlMs: 0 })
    devKey = (await keys.create({ name: 'dev', owner: 'local', models: ['*'] })).key
  }

  const cognito = config.cognito ? createCognitoClient({ region: config.cognito.region }) : undefined
  // Local console sign-in only on a loopback listener (the route checks peer and Host as well).
  const local = LOOPBACK.test(config.host) ? new LocalConsoleLogin() : undefined
  let url = ''
  let lastStale = 0
  const consoleLink = () => (local ? `${url}/console/#login=${local.issueLink()}` : undefined)
  const app = await buildApp({
    config,
    catalog,
    clients: { dynamo, bedrock: createBedrockClient(), cognito, s3: createS3Client() },
    console: {
      dir: opts.consoleDir ?? CONSOLE_DIR,
      local,
      onStaleLink: () => {
        if (!opts.onStaleLink || Date.now() - lastStale < 10_000) return
        lastStale = Date.now()
        opts.onStaleLink(consoleLink()!)
      },
    },
  })
  url = await app.listen({ host: config.host, port: config.port })
  return {
    url,
    devKey,
    consoleLink,
    store: embedded?.host,
    close: async () => {
      // In-flight requests get a grace period; then stragglers (and keep-alive sockets that
      // never sent a request, which 'idle' closing would wait 72 s for) are cut.
      const closing = app.close()
      const cut = setTimeout(() => app.server.closeAllConnections(), 2_000)
      cut.unref()
      await closing
      clearTimeout(cut)
      dynamo.destroy()
      forgetEndpoint?.()
      await embedded?.close()
    },
  }
}

/** `npm start`'s defaults (mock models, buffered answers, local sign-in, /metrics). */
export const LOCAL_DEFAULTS: ConfigDefaults = {
  mockModels: true,
  lambdaStreaming: false,
  oauthLocalSignIn: true,
  metricsEndpoint: true,
}

async function main(): Promise<void> {
  let config: Readonly<Config>
  try {
    config = loadConfig(process.env, LOCAL_DEFAULTS)
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message)
      process.exit(1)
    }
    throw err
  }
  const server = await startLocalServer(config, process.env, {
    onStaleLink: (link) => process.stdout.write(`Console (new sign-in link): ${link}\n`),
  })
  // Printed once, on the line tools look for; it is never logged.
  if (server.devKey) process.stdout.write(`Dev API key: ${server.devKey}\n`)
  process.stdout.write(`pennyworth listening on ${server.url}/v1\n`)
  const link = server.consoleLink()
  // One-time, 10-minute link; the token is in the fragment, which browsers never send.
  process.stdout.write(
    link ? `Console: ${link}\n` : `Console: ${server.url}/console/ (local sign-in needs a loopback HOST)\n`,
  )
  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    process.stdout.write(`${signal}: closing\n`)
    const timer = setTimeout(() => process.exit(1), 10_000)
    timer.unref()
    await server.close()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('app/server.ts')) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}
