/**
 * `pennyworth` — the command line. This issue's bootstrap path: `keys create|list|revoke`
 * work directly against the configured DynamoDB (AWS credentials and PENNYWORTH_*_TABLE from
 * the environment), or with `--local` against `npm start`'s store under PENNYWORTH_DATA_DIR.
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createDocumentClient } from '../clients.js'
import { ConfigError, loadConfig } from '../config.js'
import { loadCatalog } from '../services/catalog.js'
import { invalidLimits, KeyService } from '../services/keys.js'
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../store/embedded.js'
import type { ApiKeyRecord } from '../store/keys.js'
import { KeyStore } from '../store/keys.js'
import { runningLocalEndpoint } from '../store/local-endpoint.js'
import { ensureTables } from '../store/setup.js'

const USAGE = `Usage: pennyworth <command> [options]

Commands:
  keys create --name <name> [--owner <owner>] [--models <id,id…>] [--expires <ISO date | 30d>]
              [--budget-usd <monthly USD>] [--soft-budget-usd <USD>] [--rpm <n>] [--tpm <n>]
  keys list [--owner <owner>]
  keys revoke <key-id>

Options:
  --local     use the local mode's store (PENNYWORTH_DATA_DIR, default ./.pennyworth)
  --json      machine-readable output
  -h, --help  this text

Without --local the configured DynamoDB is used: AWS credentials and region from the usual
AWS variables or profile, table names from PENNYWORTH_KEYS_TABLE (default pennyworth-keys).`

/** Exit codes: 0 ok, 1 failure, 2 usage error. */
class UsageError extends Error {}

interface Io { out(s: string): void; err(s: string): void }
const stdio: Io = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) }

/** `30d`, `12h` or an ISO date → ISO timestamp. */
export function parseExpiry(value: string, now = Date.now()): string {
  const rel = /^(\d+)([dh])$/.exec(value)
  if (rel) return new Date(now + Number(rel[1]) * (rel[2] === 'd' ? 86_400_000 : 3_600_000)).toISOString()
  const t = Date.parse(value)
  if (Number.isNaN(t)) throw new UsageError(`--expires: "${value}" is neither a date nor a duration like 30d or 12h`)
  if (t <= now) throw new UsageError('--expires: the date is in the past')
  return new Date(t).toISOString()
}

/** A USD amount (`12.5`) → integer micro-USD. */
export function parseUsd(flag: string, value: string): number {
  if (!/^\d+(\.\d{1,6})?$/.test(value)) throw new UsageError(`--${flag}: "${value}" is not an amount in USD like 25 or 12.50`)
  const [whole, frac = ''] = value.split('.')
  return Number(whole) * 1_000_000 + Number(frac.padEnd(6, '0'))
}

/** A positive whole number (`--rpm`, `--tpm`). */
export function parseCount(flag: string, value: string): number {
  if (!/^[1-9]\d{0,9}$/.test(value)) throw new UsageError(`--${flag}: "${value}" is not a positive whole number`)
  return Number(value)
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n')
}

const publicView = ({ secretHash: _hidden, ...rest }: ApiKeyRecord) => rest

export async function main(argv: string[], io: Io = stdio, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let embedded: EmbeddedDynamo | undefined
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' }, owner: { type: 'string' }, models: { type: 'string' }, expires: { type: 'string' },
        'budget-usd': { type: 'string' }, 'soft-budget-usd': { type: 'string' }, rpm: { type: 'string' }, tpm: { type: 'string' },
        local: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    })
    const [group, command, ...rest] = positionals
    if (values.help || !group) {
      io.out(USAGE)
      return values.help ? 0 : 2
    }
    if (group !== 'keys' || !['create', 'list', 'revoke'].includes(command ?? '')) throw new UsageError(`unknown command: ${positionals.join(' ')}`)

    const config = loadConfig(env)
    let doc
    if (values.local && !env.AWS_ENDPOINT_URL_DYNAMODB) {
      let endpoint = await runningLocalEndpoint(config.dataDir)
      if (!endpoint) {
        embedded = await startEmbeddedDynamo(resolve(config.dataDir, 'dynamodb'))
        endpoint = embedded.endpoint
      }
      doc = createDocumentClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
      await ensureTables(doc, config.tables)
    } else {
      doc = createDocumentClient()
    }
    const keys = new KeyService(new KeyStore(doc, config.tables.keys), { cacheTtlMs: 0 })
    try {
      switch (command) {
        case 'create': {
          if (!values.name) throw new UsageError('keys create needs --name')
          const models = values.models?.split(',').map((m) => m.trim()).filter(Boolean)
          if (models && !models.includes('*')) {
            const known = new Set(loadCatalog(config.catalogPath).models.map((m) => m.id))
            const unknown = models.filter((m) => !known.has(m))
            if (unknown.length) throw new UsageError(`--models: not in the catalog: ${unknown.join(', ')}`)
          }
          const expires = values.expires ? parseExpiry(values.expires) : null
          const limits = {
            monthlyBudgetMicroUsd: values['budget-usd'] !== undefined ? parseUsd('budget-usd', values['budget-usd']) : null,
            softBudgetMicroUsd: values['soft-budget-usd'] !== undefined ? parseUsd('soft-budget-usd', values['soft-budget-usd']) : null,
            rpm: values.rpm !== undefined ? parseCount('rpm', values.rpm) : null,
            tpm: values.tpm !== undefined ? parseCount('tpm', values.tpm) : null,
          }
          const problem = invalidLimits(limits)
          if (problem) throw new UsageError(problem)
          const { key, record } = await keys.create({ name: values.name, owner: values.owner ?? env.USER ?? 'admin', models, expires, ...limits })
          if (values.json) io.out(JSON.stringify({ key, ...publicView(record) }))
          else {
            io.out(`Created key ${record.id} (${record.name}) for ${record.owner}; models: ${record.models.join(', ')}; expires: ${record.expires ?? 'never'}`)
            const set = [
              record.monthlyBudgetMicroUsd != null ? `budget $${record.monthlyBudgetMicroUsd / 1e6}/month` : '',
              record.softBudgetMicroUsd != null ? `soft $${record.softBudgetMicroUsd / 1e6}` : '',
              record.rpm != null ? `${record.rpm} rpm` : '', record.tpm != null ? `${record.tpm} tpm` : '',
            ].filter(Boolean)
            if (set.length) io.out(`Limits: ${set.join(', ')}`)
            io.out(`API key (shown once, store it now): ${key}`)
          }
          return 0
        }
        case 'list': {
          const list = await keys.list(values.owner)
          if (values.json) io.out(JSON.stringify(list.map(publicView)))
          else if (list.length === 0) io.out('No keys.')
          else {
            io.out(table([['ID', 'NAME', 'OWNER', 'STATUS', 'MODELS', 'CREATED', 'EXPIRES'],
              ...list.map((k) => [k.id, k.name, k.owner, k.status, k.models.join(','), k.createdAt.slice(0, 19) + 'Z', k.expires ?? 'never'])]))
          }
          return 0
        }
        default: {
          const id = rest[0]
          if (!id) throw new UsageError('keys revoke needs a key id (see keys list)')
          const record = await keys.revoke(id)
          if (!record) {
            io.err(`No key with id ${id}.`)
            return 1
          }
          io.out(values.json ? JSON.stringify(publicView(record)) : `Revoked key ${id}. Running gateways stop accepting it within ${config.keyCacheTtlMs / 1000} s.`)
          return 0
        }
      }
    } finally {
      doc.destroy()
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`pennyworth: ${(err as Error).message}\n\n${USAGE}`)
      return 2
    }
    if (err instanceof ConfigError) {
      io.err(err.message)
      return 2
    }
    io.err(`pennyworth: ${(err as Error).name === 'CredentialsProviderError' ? 'no AWS credentials found (set AWS_PROFILE or use --local)' : (err as Error).message}`)
    return 1
  } finally {
    await embedded?.close()
  }
}
