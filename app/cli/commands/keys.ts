/**
 * `keys create|list|show|update|revoke|rotate` through the admin API (signed in), and
 * `keys create|list|revoke --local | --direct` straight against a store (the bootstrap path,
 * no sign-in). Both print the same way.
 */
import type { KeyService } from '../../services/keys.js'
import type { ApiKeyRecord } from '../../store/keys.js'
import { connect } from '../api.js'
import { answer, type Context } from '../context.js'
import { CliError, EXIT, usageError } from '../errors.js'
import { limitFields, list, parseDuration, parseExpiry, str } from '../flags.js'
import { openDirectKeys } from '../local-store.js'
import { table, usd, when } from '../table.js'
import type { Io } from '../ui.js'

/** A key as the admin API shows it (no hashes). */
interface KeyView {
  id: string
  name: string
  owner: string
  createdAt: string
  expires: string | null
  status: string
  models: string[]
  revokedAt?: string
  rotatedAt?: string
  graceUntil?: string
  monthlyBudgetMicroUsd?: number | null
  softBudgetMicroUsd?: number | null
  rpm?: number | null
  tpm?: number | null
}

/** What the bootstrap path can do without a gateway. */
const DIRECT_COMMANDS = ['create', 'list', 'revoke']

export async function keys(ctx: Context): Promise<number> {
  const direct = ctx.flags.local === true ? 'local' : ctx.flags.direct === true ? 'direct' : undefined
  if (direct) {
    if (!DIRECT_COMMANDS.includes(ctx.command ?? '')) {
      throw usageError(
        `keys ${ctx.command ?? ''} does not work with --${direct}: only keys ` +
          `${DIRECT_COMMANDS.join(', ')} do (the others need a gateway and sign-in)`,
      )
    }
    return directKeys(ctx, direct)
  }
  return remoteKeys(ctx)
}

function limitsText(k: KeyView): string {
  return (
    [
      k.monthlyBudgetMicroUsd != null ? `budget ${usd(k.monthlyBudgetMicroUsd)}/month` : '',
      k.softBudgetMicroUsd != null ? `soft ${usd(k.softBudgetMicroUsd)}` : '',
      k.rpm != null ? `${k.rpm} rpm` : '',
      k.tpm != null ? `${k.tpm} tpm` : '',
    ]
      .filter(Boolean)
      .join(', ') || 'none'
  )
}

function printCreated(io: Io, k: KeyView, key: string, label = 'API key'): void {
  io.out(
    `Created key ${k.id} (${k.name}) for ${k.owner}; models: ${k.models.join(', ')}; ` +
      `expires: ${when(k.expires, 'never')}; limits: ${limitsText(k)}`,
  )
  io.out(`${label} (shown once, store it now): ${key}`)
}

function printList(io: Io, keys: KeyView[]): void {
  if (keys.length === 0) {
    io.out('No keys.')
    return
  }
  io.out(
    table([
      ['ID', 'NAME', 'OWNER', 'STATUS', 'MODELS', 'CREATED', 'EXPIRES', 'LIMITS'],
      ...keys.map((k) => [
        k.id,
        k.name,
        k.owner,
        k.status,
        k.models.join(','),
        when(k.createdAt),
        when(k.expires, 'never'),
        limitsText(k),
      ]),
    ]),
  )
}

function printKey(io: Io, k: KeyView): void {
  io.out(
    table([
      ['id', k.id],
      ['name', k.name],
      ['owner', k.owner],
      ['status', k.status + (k.revokedAt ? ` (${when(k.revokedAt)})` : '')],
      ['models', k.models.join(', ')],
      ['created', when(k.createdAt)],
      ['expires', when(k.expires, 'never')],
      ['limits', limitsText(k)],
      ...(k.rotatedAt ? [['rotated', when(k.rotatedAt)]] : []),
      ...(k.graceUntil ? [['old secret until', when(k.graceUntil)]] : []),
    ]),
  )
}

async function remoteKeys(ctx: Context): Promise<number> {
  const { io, flags, args, command } = ctx
  const needId = () => {
    if (!args[0]) throw usageError(`keys ${command} needs a key id (see keys list)`)
    return encodeURIComponent(args[0])
  }
  switch (command) {
    case 'create': {
      const name = str(flags, 'name')
      if (!name) throw usageError('keys create needs --name')
      const expires = str(flags, 'expires')
      const body = {
        name,
        owner: str(flags, 'owner'),
        models: list(str(flags, 'models')),
        expires: expires !== undefined ? parseExpiry(expires, false) : undefined,
        ...limitFields(flags, false),
      }
      const k = await connect(ctx).api.request<KeyView & { key: string }>(
        'POST',
        '/v1/admin/keys',
        body,
        'Creating the key…',
      )
      answer(ctx, k, () => printCreated(io, k, k.key))
      return EXIT.ok
    }
    case 'list': {
      const owner = str(flags, 'owner')
      const res = await connect(ctx).api.request<{ data: KeyView[] }>(
        'GET',
        `/v1/admin/keys${owner ? `?owner=${encodeURIComponent(owner)}` : ''}`,
        undefined,
        'Loading keys…',
      )
      answer(ctx, res.data, () => printList(io, res.data))
      return EXIT.ok
    }
    case 'show': {
      const k = await connect(ctx).api.request<KeyView>('GET', `/v1/admin/keys/${needId()}`)
      answer(ctx, k, () => printKey(io, k))
      return EXIT.ok
    }
    case 'update': {
      const path = `/v1/admin/keys/${needId()}`
      const expires = str(flags, 'expires')
      const body: Record<string, unknown> = { ...limitFields(flags, true) }
      if (str(flags, 'name') !== undefined) body.name = str(flags, 'name')
      if (str(flags, 'models') !== undefined) body.models = list(str(flags, 'models'))
      if (expires !== undefined) body.expires = parseExpiry(expires, true)
      if (Object.keys(body).length === 0)
        throw usageError(
          'keys update: nothing to change (--name, --models, --expires, --budget-usd, --soft-budget-usd, --rpm, --tpm)',
        )
      const k = await connect(ctx).api.request<KeyView>('PATCH', path, body, 'Updating the key…')
      answer(ctx, k, () => {
        io.out(`Updated key ${k.id}.`)
        printKey(io, k)
      })
      return EXIT.ok
    }
    case 'revoke': {
      const k = await connect(ctx).api.request<KeyView>('POST', `/v1/admin/keys/${needId()}/revoke`, {}, 'Revoking…')
      answer(ctx, k, () =>
        io.out(`Revoked key ${k.id} (${k.name}). Gateways stop accepting it within their key cache time (≤ 30 s).`),
      )
      return EXIT.ok
    }
    case 'rotate': {
      const grace = str(flags, 'grace')
      const seconds = grace !== undefined ? parseDuration('grace', grace) : 0
      const path = `/v1/admin/keys/${needId()}/rotate`
      const k = await connect(ctx).api.request<KeyView & { key: string }>(
        'POST',
        path,
        { gracePeriodSeconds: seconds },
        'Rotating…',
      )
      answer(ctx, k, () => {
        const old = k.graceUntil
          ? `The old key keeps working until ${when(k.graceUntil)}.`
          : 'The old key no longer works.'
        io.out(`Rotated key ${k.id}. ${old}`)
        io.out(`New API key (shown once, store it now): ${k.key}`)
      })
      return EXIT.ok
    }
    default:
      throw usageError(`unknown command: keys ${command ?? ''}`.trim())
  }
}

const publicView = ({ secretHash: _hidden, previousSecretHash: _previous, ...rest }: ApiKeyRecord): KeyView => rest

async function directKeys(ctx: Context, mode: 'local' | 'direct'): Promise<number> {
  const { io, flags, args, command, env } = ctx
  // Check the command line before opening a store.
  let create: Parameters<KeyService['create']>[0] | undefined
  if (command === 'create') {
    const name = str(flags, 'name')
    if (!name) throw usageError('keys create needs --name')
    const expires = str(flags, 'expires')
    create = {
      name,
      owner: str(flags, 'owner') ?? env.USER ?? 'admin',
      models: list(str(flags, 'models')),
      expires: expires !== undefined ? parseExpiry(expires, false) : null,
      monthlyBudgetMicroUsd: null,
      softBudgetMicroUsd: null,
      rpm: null,
      tpm: null,
      ...limitFields(flags, false),
    }
  }
  if (command === 'revoke' && !args[0]) throw usageError('keys revoke needs a key id (see keys list)')

  const store = await openDirectKeys(mode, env)
  try {
    if (create) {
      const { invalidLimits } = await import('../../services/keys.js')
      if (create.models && !create.models.includes('*')) {
        const known = store.catalogIds()
        const unknown = create.models.filter((m) => !known.has(m))
        if (unknown.length) throw usageError(`--models: not in the catalog: ${unknown.join(', ')}`)
      }
      const problem = invalidLimits(create)
      // The service names the key's fields; here the person typed flags.
      if (problem)
        throw usageError(
          problem.replace('softBudgetMicroUsd', '--soft-budget-usd').replace('monthlyBudgetMicroUsd', '--budget-usd'),
        )
      const { key, record } = await store.keys.create(create)
      const k = publicView(record)
      answer(ctx, { key, ...k }, () => printCreated(io, k, key))
      return EXIT.ok
    }
    if (command === 'list') {
      const all = (await store.keys.list(str(flags, 'owner'))).map(publicView)
      answer(ctx, all, () => printList(io, all))
      return EXIT.ok
    }
    const id = args[0]
    const record = await store.keys.revoke(id)
    if (!record) throw new CliError(`No API key with id ${id}.`, EXIT.notFound)
    answer(ctx, publicView(record), () =>
      io.out(
        `Revoked key ${id} (${record.name}). Running gateways stop accepting it within ` +
          `${store.keyCacheTtlMs / 1000} s.`,
      ),
    )
    return EXIT.ok
  } finally {
    await store.close()
  }
}
