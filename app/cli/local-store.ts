/**
 * The bootstrap path's key service, without sign-in: with --local the local mode's store (the
 * running `npm start`'s, found through the data dir, or opened here), with --direct the
 * configured DynamoDB (AWS credentials and PENNYWORTH_*_TABLE from the environment).
 */
import { resolve } from 'node:path'
import { ConfigError, loadConfig } from '../config.js'
import type { KeyService } from '../services/keys.js'
import { CliError, EXIT } from './errors.js'

export interface DirectKeys {
  keys: KeyService
  /** Model ids of the catalog (checks --models before anything is written). */
  catalogIds(): Set<string>
  /** How long running gateways may keep accepting a revoked key. */
  keyCacheTtlMs: number
  close(): Promise<void>
}

export async function openDirectKeys(mode: 'local' | 'direct', env: NodeJS.ProcessEnv): Promise<DirectKeys> {
  let config
  try {
    config = loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage)
    throw err
  }
  // The DynamoDB SDK and the embedded store load only here: remote commands start faster.
  const [
    { createDocumentClient },
    { loadCatalogFile },
    { KeyService },
    { startEmbeddedDynamo },
    { KeyStore },
    { runningLocalEndpoint },
    { ensureTables },
  ] = await Promise.all([
    import('../clients.js'),
    import('../services/catalog-file.js'),
    import('../services/keys.js'),
    import('../store/embedded.js'),
    import('../store/keys.js'),
    import('../store/local-endpoint.js'),
    import('../store/setup.js'),
  ])
  let embedded: Awaited<ReturnType<typeof startEmbeddedDynamo>> | undefined
  let doc
  if (mode === 'local' && !env.AWS_ENDPOINT_URL_DYNAMODB) {
    let endpoint = await runningLocalEndpoint(config.dataDir)
    if (!endpoint) {
      embedded = await startEmbeddedDynamo(resolve(config.dataDir, 'dynamodb'))
      endpoint = embedded.endpoint
    }
    doc = createDocumentClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    })
    try {
      await ensureTables(doc, config.tables)
    } catch (err) {
      doc.destroy()
      await embedded?.close()
      throw err
    }
  } else {
    doc = createDocumentClient()
  }
  const catalogPath = config.catalogPath
  return {
    keys: new KeyService(new KeyStore(doc, config.tables.keys), { cacheTtlMs: 0 }),
    catalogIds: () => new Set(loadCatalogFile(catalogPath).models.map((m) => m.id)),
    keyCacheTtlMs: config.keyCacheTtlMs,
    async close() {
      doc.destroy()
      await embedded?.close()
    },
  }
}
