/**
 * The CLI's commands over the admin API (HTTP, a Cognito access token): login, logout, whoami,
 * keys create|list|show|update|revoke|rotate, usage, users add|list|disable.
 * Every command prints a human form by default and JSON with --json.
 */
import { decodeJwt } from 'jose'
import { accessToken, CliError, EXIT, login, logout, normalizeApiUrl, SessionStore } from './session.js'
import { barChart, int, Prompter, table, usd, withSpinner, type Io } from './ui.js'

/** Parsed command line (node:util parseArgs values). */
export type Flags = Record<string, string | boolean | undefined>

const str = (flags: Flags, name: string) => (typeof flags[name] === 'string' ? flags[name] as string : undefined)

/** `90s`, `15m`, `1h`, `7d` or a number of seconds → seconds. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value)
  if (!m) throw new CliError(`--${flag}: "${value}" is not a duration like 0, 90s, 15m, 1h or 7d`, EXIT.usage)
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd']
}

/** `30d`, `12h`, an ISO date, or (for updates) `never` → ISO timestamp or null. */
export function parseExpiryFlag(value: string, allowNever: boolean, now = Date.now()): string | null {
  if (allowNever && value === 'never') return null
  const rel = /^(\d+)([dh])$/.exec(value)
  if (rel) return new Date(now + Number(rel[1]) * (rel[2] === 'd' ? 86_400_000 : 3_600_000)).toISOString()
  const t = Date.parse(value)
  if (Number.isNaN(t)) throw new CliError(`--expires: "${value}" is neither a date nor a duration like 30d or 12h${allowNever ? ' nor "never"' : ''}`, EXIT.usage)
  if (t <= now) throw new CliError('--expires: the date is in the past', EXIT.usage)
  return new Date(t).toISOString()
}

/** USD (`12.5`) → micro-USD; `none` → null (updates clear the limit). */
function usdFlag(flag: string, value: string, allowNone: boolean): number | null {
  if (allowNone && value === 'none') return null
  if (!/^\d+(\.\d{1,6})?$/.test(value)) throw new CliError(`--${flag}: "${value}" is not an amount in USD like 25 or 12.50${allowNone ? ' (or "none")' : ''}`, EXIT.usage)
  const [whole, frac = ''] = value.split('.')
  return Number(whole) * 1_000_000 + Number(frac.padEnd(6, '0'))
}

function countFlag(flag: string, value: string, allowNone: boolean): number | null {
  if (allowNone && value === 'none') return null
  if (!/^[1-9]\d{0,9}$/.test(value)) throw new CliError(`--${flag}: "${value}" is not a positive whole number${allowNone ? ' (or "none")' : ''}`, EXIT.usage)
  return Number(value)
}

/** The limit flags that are present, as admin API fields. */
function limitFields(flags: Flags, allowNone: boolean): Record<string, number | null> {
  const out: Record<string, number | null> = {}
  const pairs: Array<[string, string, typeof usdFlag]> = [
    ['budget-usd', 'monthlyBudgetMicroUsd', usdFlag], ['soft-budget-usd', 'softBudgetMicroUsd', usdFlag],
    ['rpm', 'rpm', countFlag], ['tpm', 'tpm', countFlag],
  ]
  for (const [flag, field, parse] of pairs) {
    const v = str(flags, flag)
    if (v !== undefined) out[field] = parse(flag, v, allowNone)
  }
  return out
}

const list = (v: string | undefined) => v?.split(',').map((s) => s.trim()).filter(Boolean)

/** Admin API over fetch with the session's token (refreshed and retried once on expiry). */
export class ApiClient {
  constructor(readonly apiUrl: string, private readonly store: SessionStore, private readonly io: Io) {}

  async request<T>(method: string, path: string, body?: unknown, spinner = 'Working…'): Promise<T> {
    const send = async (force: boolean) => {
      const { token } = await accessToken(this.store, this.apiUrl, { force })
      try {
        return await fetch(`${this.apiUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body !== undefined ? JSON.stringify(body) : undefined,
          signal: AbortSignal.timeout(60_000),
        })
      } catch (err) {
        throw new CliError(`cannot reach ${this.apiUrl}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`)
      }
    }
    return withSpinner(this.io, spinner, async () => {
      let res = await send(false)
      let payload = await res.json().catch(() => undefined) as { error?: { message?: string; code?: string } } | undefined
      if (res.status === 401 && payload?.error?.code === 'token_expired') {
        res = await send(true)
        payload = await res.json().catch(() => undefined) as typeof payload
      }
      if (!res.ok) {
        const message = payload?.error?.message ?? `HTTP ${res.status}`
        const code = res.status === 401 ? EXIT.auth : res.status === 403 ? EXIT.forbidden : res.status === 404 ? EXIT.notFound
          : res.status === 400 ? EXIT.usage : EXIT.failure
        throw new CliError(res.status === 401 ? `${message} (run: pennyworth login)` : message, code)
      }
      return payload as T
    })
  }
}

interface KeyView {
  id: string; name: string; owner: string; createdAt: string; expires: string | null; status: string; models: string[]
  revokedAt?: string; rotatedAt?: string; graceUntil?: string
  monthlyBudgetMicroUsd?: number | null; softBudgetMicroUsd?: number | null; rpm?: number | null; tpm?: number | null
}

function limitsText(k: KeyView): string {
  return [
    k.monthlyBudgetMicroUsd != null ? `budget ${usd(k.monthlyBudgetMicroUsd)}/month` : '',
    k.softBudgetMicroUsd != null ? `soft ${usd(k.softBudgetMicroUsd)}` : '',
    k.rpm != null ? `${k.rpm} rpm` : '', k.tpm != null ? `${k.tpm} tpm` : '',
  ].filter(Boolean).join(', ') || 'none'
}

function showKey(io: Io, k: KeyView): void {
  io.out(table([
    ['id', k.id], ['name', k.name], ['owner', k.owner], ['status', k.status + (k.revokedAt ? ` (${k.revokedAt})` : '')],
    ['models', k.models.join(', ')], ['created', k.createdAt], ['expires', k.expires ?? 'never'], ['limits', limitsText(k)],
    ...(k.rotatedAt ? [['rotated', k.rotatedAt]] : []),
    ...(k.graceUntil ? [['old secret until', k.graceUntil]] : []),
  ]))
}

interface UsageCountersWire { requests: number; input_tokens: number; output_tokens: number; cost_micro_usd: number; estimated_requests: number }
interface UsageWire {
  granularity: string; from: string; to: string; totals: UsageCountersWire
  periods: Array<{ period: string; totals: UsageCountersWire }>
  models: Array<{ model: string } & UsageCountersWire>
  keys?: Array<{ key_id: string; owner: string; name?: string; totals: UsageCountersWire }>
}

/** Every period of the range (days or months), so the chart shows the quiet ones too. */
function periodsOf(u: UsageWire): string[] {
  const out: string[] = []
  if (u.granularity === 'day') {
    for (let t = Date.parse(`${u.from}T00:00:00Z`); t <= Date.parse(`${u.to}T00:00:00Z`) && out.length < 400; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10))
  } else {
    let [y, m] = u.from.split('-').map(Number)
    while (`${y}-${String(m).padStart(2, '0')}` <= u.to && out.length < 400) {
      out.push(`${y}-${String(m).padStart(2, '0')}`)
      if (++m > 12) { m = 1; y++ }
    }
  }
  return out
}

function printUsage(io: Io, u: UsageWire): void {
  const byPeriod = new Map(u.periods.map((p) => [p.period, p.totals]))
  const rows = periodsOf(u).map((p) => ({ period: p, t: byPeriod.get(p) }))
  io.out(`Usage ${u.from} … ${u.to} (by ${u.granularity})`)
  io.out('')
  io.out(table([
    [u.granularity.toUpperCase(), 'REQUESTS', 'INPUT TOKENS', 'OUTPUT TOKENS', 'COST'],
    ...rows.filter((r) => r.t).map((r) => [r.period, int(r.t!.requests), int(r.t!.input_tokens), int(r.t!.output_tokens), usd(r.t!.cost_micro_usd)]),
    ['total', int(u.totals.requests), int(u.totals.input_tokens), int(u.totals.output_tokens), usd(u.totals.cost_micro_usd)],
  ], new Set([1, 2, 3, 4])))
  if (u.models.length) {
    io.out('')
    io.out(table([['MODEL', 'REQUESTS', 'TOKENS', 'COST'], ...u.models.map((m) => [m.model, int(m.requests), int(m.input_tokens + m.output_tokens), usd(m.cost_micro_usd)])], new Set([1, 2, 3])))
  }
  if (u.keys?.length) {
    io.out('')
    io.out(table([['KEY', 'NAME', 'OWNER', 'REQUESTS', 'COST'], ...u.keys.map((k) => [k.key_id, k.name ?? '', k.owner, int(k.totals.requests), usd(k.totals.cost_micro_usd)])], new Set([3, 4])))
  }
  // Cost per period; token counts when nothing cost anything (mock models).
  const byCost = u.totals.cost_micro_usd > 0
  io.out('')
  io.out(byCost ? `Cost per ${u.granularity}:` : `Tokens per ${u.granularity}:`)
  io.out(barChart(rows.map((r) => {
    const value = r.t ? (byCost ? r.t.cost_micro_usd : r.t.input_tokens + r.t.output_tokens) : 0
    return { label: r.period, value, text: byCost ? usd(value) : int(value) }
  })))
}

export interface RemoteContext {
  io: Io
  env: NodeJS.ProcessEnv
  flags: Flags
  positionals: string[]
}

/** The gateway: --api-url, PENNYWORTH_API_URL, or the one last signed in to. */
function apiUrlOf(ctx: RemoteContext, store: SessionStore): string {
  const given = str(ctx.flags, 'api-url') ?? ctx.env.PENNYWORTH_API_URL
  if (given) return normalizeApiUrl(given)
  const current = store.current()
  if (current) return current
  throw new CliError('which gateway? Pass --api-url https://api.example.com or set PENNYWORTH_API_URL', EXIT.usage)
}

/** Runs one remote command; returns the exit code. */
export async function runRemote(ctx: RemoteContext): Promise<number> {
  const { io, flags, positionals, env } = ctx
  const json = flags.json === true
  const store = SessionStore.fromEnv(env)
  const [group, command, ...args] = positionals
  const apiUrl = apiUrlOf(ctx, store)
  const api = new ApiClient(apiUrl, store, io)
  const print = (value: unknown, human: () => void) => (json ? io.out(JSON.stringify(value)) : human())

  if (group === 'login') {
    const prompter = new Prompter(io)
    try {
      const session = await login(apiUrl, io, prompter, store, { username: str(flags, 'username'), flow: str(flags, 'flow'), env })
      const claims = decodeJwt(session.accessToken)
      const groups = (claims['cognito:groups'] as string[] | undefined) ?? []
      print({ apiUrl, username: session.username, groups, expiresAt: new Date(session.expiresAt).toISOString() },
        () => io.out(`Signed in to ${apiUrl} as ${session.username} (${groups.join(', ') || 'no group'}). Tokens cached in ${store.file}.`))
      return EXIT.ok
    } finally {
      prompter.close()
    }
  }
  if (group === 'logout') {
    const had = await logout(store, apiUrl, io)
    print({ apiUrl, signedOut: had }, () => io.out(had ? `Signed out of ${apiUrl}.` : `Not signed in to ${apiUrl}.`))
    return EXIT.ok
  }
  if (group === 'whoami') {
    const me = await api.request<{ sub: string; username: string; groups: string[]; admin: boolean }>('GET', '/v1/admin/me')
    const session = store.get(apiUrl)!
    print({ apiUrl, signedInAs: session.username, ...me, tokenExpiresAt: new Date(session.expiresAt).toISOString() }, () => {
      io.out(`${session.username} on ${apiUrl}`)
      io.out(table([['sub', me.sub], ['groups', me.groups.join(', ') || '(none)'], ['role', me.admin ? 'admin' : 'user'], ['token valid until', new Date(session.expiresAt).toISOString()]]))
    })
    return EXIT.ok
  }

  if (group === 'keys') {
    const id = args[0]
    const needId = () => { if (!id) throw new CliError(`keys ${command} needs a key id (see keys list)`, EXIT.usage); return encodeURIComponent(id) }
    switch (command) {
      case 'create': {
        const name = str(flags, 'name')
        if (!name) throw new CliError('keys create needs --name', EXIT.usage)
        const expires = str(flags, 'expires')
        const body = {
          name, owner: str(flags, 'owner'), models: list(str(flags, 'models')),
          expires: expires !== undefined ? parseExpiryFlag(expires, false) : undefined, ...limitFields(flags, false),
        }
        const k = await api.request<KeyView & { key: string }>('POST', '/v1/admin/keys', body, 'Creating the key…')
        print(k, () => {
          io.out(`Created key ${k.id} (${k.name}) for ${k.owner}; models: ${k.models.join(', ')}; expires: ${k.expires ?? 'never'}; limits: ${limitsText(k)}`)
          io.out(`API key (shown once, store it now): ${k.key}`)
        })
        return EXIT.ok
      }
      case 'list': {
        const owner = str(flags, 'owner')
        const res = await api.request<{ data: KeyView[] }>('GET', `/v1/admin/keys${owner ? `?owner=${encodeURIComponent(owner)}` : ''}`, undefined, 'Loading keys…')
        print(res.data, () => {
          if (res.data.length === 0) io.out('No keys.')
          else io.out(table([['ID', 'NAME', 'OWNER', 'STATUS', 'MODELS', 'CREATED', 'EXPIRES', 'LIMITS'],
            ...res.data.map((k) => [k.id, k.name, k.owner, k.status, k.models.join(','), `${k.createdAt.slice(0, 19)}Z`, k.expires ?? 'never', limitsText(k)])]))
        })
        return EXIT.ok
      }
      case 'show': {
        const k = await api.request<KeyView>('GET', `/v1/admin/keys/${needId()}`)
        print(k, () => showKey(io, k))
        return EXIT.ok
      }
      case 'update': {
        const path = `/v1/admin/keys/${needId()}`
        const expires = str(flags, 'expires')
        const body: Record<string, unknown> = { ...limitFields(flags, true) }
        if (str(flags, 'name') !== undefined) body.name = str(flags, 'name')
        if (str(flags, 'models') !== undefined) body.models = list(str(flags, 'models'))
        if (expires !== undefined) body.expires = parseExpiryFlag(expires, true)
        if (Object.keys(body).length === 0) throw new CliError('keys update: nothing to change (--name, --models, --expires, --budget-usd, --soft-budget-usd, --rpm, --tpm)', EXIT.usage)
        const k = await api.request<KeyView>('PATCH', path, body, 'Updating the key…')
        print(k, () => { io.out(`Updated key ${k.id}.`); showKey(io, k) })
        return EXIT.ok
      }
      case 'revoke': {
        const k = await api.request<KeyView>('POST', `/v1/admin/keys/${needId()}/revoke`, {}, 'Revoking…')
        print(k, () => io.out(`Revoked key ${k.id} (${k.name}). Gateways stop accepting it within their key cache time (≤ 30 s).`))
        return EXIT.ok
      }
      case 'rotate': {
        const grace = str(flags, 'grace')
        const seconds = grace !== undefined ? parseDuration('grace', grace) : 0
        const k = await api.request<KeyView & { key: string }>('POST', `/v1/admin/keys/${needId()}/rotate`, { gracePeriodSeconds: seconds }, 'Rotating…')
        print(k, () => {
          io.out(`Rotated key ${k.id}. ${k.graceUntil ? `The old key keeps working until ${k.graceUntil}.` : 'The old key no longer works.'}`)
          io.out(`New API key (shown once, store it now): ${k.key}`)
        })
        return EXIT.ok
      }
      default:
        throw new CliError(`unknown command: keys ${command ?? ''}`.trim(), EXIT.usage)
    }
  }

  if (group === 'usage') {
    const q = new URLSearchParams()
    const granularity = str(flags, 'granularity') ?? 'day'
    if (!['day', 'month'].includes(granularity)) throw new CliError('--granularity must be day or month', EXIT.usage)
    q.set('granularity', granularity)
    for (const [flag, param] of [['from', 'from'], ['to', 'to'], ['key', 'key_id'], ['owner', 'owner']] as const) {
      const v = str(flags, flag)
      if (v !== undefined) q.set(param, v)
    }
    const u = await api.request<UsageWire>('GET', `/v1/admin/usage?${q}`, undefined, 'Loading usage…')
    print(u, () => printUsage(io, u))
    return EXIT.ok
  }

  if (group === 'users') {
    switch (command) {
      case 'add': {
        const email = args[0]
        if (!email) throw new CliError('users add needs an e-mail address', EXIT.usage)
        const userGroup = str(flags, 'group') ?? 'user'
        if (!['admin', 'user'].includes(userGroup)) throw new CliError('--group must be admin or user', EXIT.usage)
        let temporaryPassword: string | undefined
        if (flags['set-password'] === true) {
          const prompter = new Prompter(io)
          try { temporaryPassword = await prompter.ask('Temporary password: ', { secret: true }) } finally { prompter.close() }
        }
        const u = await api.request<{ username: string; email: string | null; status: string; groups: string[] }>('POST', '/v1/admin/users',
          { email, group: userGroup, temporaryPassword, sendInvite: flags['no-invite'] !== true }, 'Creating the user…')
        print(u, () => io.out(`Created ${u.email ?? email} in group ${u.groups.join(', ')} (${u.status}).${flags['no-invite'] === true ? '' : ' Cognito e-mails the invitation with a temporary password.'}`))
        return EXIT.ok
      }
      case 'list': {
        const res = await api.request<{ data: Array<{ username: string; sub: string; email: string | null; enabled: boolean; status: string; groups: string[]; createdAt: string | null }> }>('GET', '/v1/admin/users', undefined, 'Loading users…')
        print(res.data, () => io.out(res.data.length === 0 ? 'No users.' : table([['EMAIL', 'GROUPS', 'ENABLED', 'STATUS', 'SUB', 'CREATED'],
          ...res.data.map((u) => [u.email ?? u.username, u.groups.join(',') || '-', u.enabled ? 'yes' : 'no', u.status, u.sub, u.createdAt?.slice(0, 10) ?? ''])])))
        return EXIT.ok
      }
      case 'disable': {
        const who = args[0]
        if (!who) throw new CliError('users disable needs an e-mail address, user name or sub', EXIT.usage)
        const u = await api.request<{ email: string | null; username: string }>('POST', `/v1/admin/users/${encodeURIComponent(who)}/disable`, {}, 'Disabling…')
        print(u, () => io.out(`Disabled ${u.email ?? u.username}: no new sign-ins; tokens already issued stay valid until they expire (≤ 60 min).`))
        return EXIT.ok
      }
      default:
        throw new CliError(`unknown command: users ${command ?? ''}`.trim(), EXIT.usage)
    }
  }
  throw new CliError(`unknown command: ${positionals.join(' ')}`, EXIT.usage)
}
