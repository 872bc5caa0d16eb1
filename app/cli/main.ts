/**
 * `pennyworth` — the command line. Signed in with Cognito (`login`), every command goes through
 * the admin API (commands.ts). The bootstrap path stays: `keys create|list|revoke --direct` work
 * directly against the configured DynamoDB (AWS credentials and PENNYWORTH_*_TABLE from the
 * environment), and with `--local` against `npm start`'s store under PENNYWORTH_DATA_DIR.
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../config.js'
import type { EmbeddedDynamo } from '../store/embedded.js'
import type { ApiKeyRecord } from '../store/keys.js'
import { runRemote } from './commands.js'
import { CliError } from './session.js'
import { stdio as terminal, type Io as TerminalIo } from './ui.js'

const USAGE = `Usage: pennyworth <command> [options]

Sign-in (Cognito; tokens cached in ~/.pennyworth, mode 0600, refreshed automatically):
  login [--username <e-mail>] [--flow auto|srp|password]
  logout
  whoami

Keys (your own; admins: anyone's):
  keys create --name <name> [--owner <user>] [--models <id,id…>] [--expires <ISO date | 30d>]
              [--budget-usd <monthly USD>] [--soft-budget-usd <USD>] [--rpm <n>] [--tpm <n>]
  keys list [--owner <user>]
  keys show <key-id>
  keys update <key-id> [--name …] [--models …] [--expires <date | 30d | never>]
              [--budget-usd <USD | none>] [--soft-budget-usd <USD | none>] [--rpm <n | none>] [--tpm <n | none>]
  keys revoke <key-id>
  keys rotate <key-id> [--grace <0 | 90s | 15m | 1h | 7d>]   (the old key works for the grace period)

Usage (table and a bar chart; --json for scripts):
  usage [--granularity day|month] [--from <YYYY-MM-DD>] [--to <YYYY-MM-DD>] [--key <key-id>] [--owner <user>]

Users (admins):
  users add <e-mail> [--group user|admin] [--no-invite] [--set-password]
  users list
  users disable <e-mail | user name | sub>

Options:
  --api-url <url>  the gateway (or PENNYWORTH_API_URL; default: the last one signed in to)
  --json           machine-readable output
  -h, --help       this text

Bootstrap without sign-in (keys create|list|revoke only):
  --local     directly in the local mode's store (PENNYWORTH_DATA_DIR, default ./.pennyworth)
  --direct    directly in the configured DynamoDB: AWS credentials and region from the usual
              AWS variables or profile, table names from PENNYWORTH_KEYS_TABLE

Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 not signed in or sign-in
failed, 4 permission denied, 5 not found.`

/** Exit codes: 0 ok, 1 failure, 2 usage error (3–5: see commands.ts EXIT). */
class UsageError extends Error {}

type Io = Pick<TerminalIo, 'out' | 'err'> & Partial<TerminalIo>
const stdio: Io = terminal

const REMOTE = new Set(['login', 'logout', 'whoami', 'keys', 'usage', 'users'])

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

const publicView = ({ secretHash: _hidden, previousSecretHash: _previous, ...rest }: ApiKeyRecord) => rest

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
        direct: { type: 'boolean' }, 'api-url': { type: 'string' }, username: { type: 'string' }, flow: { type: 'string' },
        grace: { type: 'string' }, group: { type: 'string' }, granularity: { type: 'string' }, from: { type: 'string' },
        to: { type: 'string' }, key: { type: 'string' }, 'no-invite': { type: 'boolean' }, 'set-password': { type: 'boolean' },
      },
    })
    const [group, command, ...rest] = positionals
    if (values.help || !group) {
      io.out(USAGE)
      return values.help ? 0 : 2
    }
    if (!(group === 'keys' && (values.local || values.direct))) {
      if (!REMOTE.has(group)) throw new UsageError(`unknown command: ${positionals.join(' ')}`)
      return await runRemote({ io: { ...terminal, ...io }, env, flags: values, positionals })
    }
    if (!['create', 'list', 'revoke'].includes(command ?? '')) throw new UsageError(`--local and --direct work with keys create, list and revoke only; got: keys ${command ?? ''}`)

    const config = loadConfig(env)
    // The direct path's modules (DynamoDB SDK, embedded store) load only here: remote commands start faster.
    const [{ createDocumentClient }, { loadCatalog }, { invalidLimits, KeyService }, { startEmbeddedDynamo }, { KeyStore }, { runningLocalEndpoint }, { ensureTables }] = await Promise.all([
      import('../clients.js'), import('../services/catalog.js'), import('../services/keys.js'), import('../store/embedded.js'),
      import('../store/keys.js'), import('../store/local-endpoint.js'), import('../store/setup.js'),
    ])
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
    if (err instanceof CliError) {
      io.err(`pennyworth: ${err.message}`)
      return err.exitCode
    }
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
