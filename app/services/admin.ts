/**
 * The admin API's use cases: who may do what, and the audit record of every change.
 * People in group `user` manage their own keys; `admin` manages everyone's keys and the users.
 * A key that is not the caller's is "not found" for a non-admin (its existence is not revealed).
 */
import { ApiError, badRequest, forbidden, notFound } from '../errors.js'
import type { AuditActor, AuditRecord, AuditStore } from '../store/audit.js'
import { KeyConflictError, type ApiKeyRecord, type KeyChanges, type KeyLimits } from '../store/keys.js'
import type { ModelRegistry } from './catalog.js'
import { isAdmin, type Group, type UserPrincipal } from './jwt.js'
import type { KeyService } from './keys.js'
import type { UsageQuery, UsageReport, UsageService } from './usage.js'
import type { UserDirectory, UserView } from './users.js'

export interface CreateKeyInput extends KeyLimits {
  name: string
  /** Admins only: the owner (user name, e-mail or sub); default the caller. */
  owner?: string
  models?: string[]
  expires?: string | null
}

export type UpdateKeyInput = KeyChanges

/** What a request adds to the audit record. */
export interface RequestContext {
  requestId?: string
}

const actor = (p: UserPrincipal): AuditActor => ({ kind: 'user', id: p.sub, name: p.username })

const usersUnavailable = () =>
  new ApiError(
    501,
    'User administration is not configured on this gateway (no Cognito user pool).',
    'api_error',
    'users_not_configured',
  )

/** The fields of a key record that describe it in an audit record (never the hash). */
function described(r: Partial<ApiKeyRecord>): Record<string, unknown> {
  const { secretHash: _s, previousSecretHash: _p, ...rest } = r
  return rest
}

export interface AdminServiceOptions {
  keys: KeyService
  audit: AuditStore
  registry: ModelRegistry
  /** Absent when no user pool is configured. */
  users?: UserDirectory
  usage: Pick<UsageService, 'query'>
  now?: () => number
}

export class AdminService {
  private readonly now: () => number

  constructor(private readonly o: AdminServiceOptions) {
    this.now = o.now ?? Date.now
  }

  /** Catalog ids (aliases become ids) or `*` alone; 400 for anything else. */
  private models(models: string[] | undefined): string[] | undefined {
    if (models === undefined) return undefined
    if (models.includes('*')) {
      if (models.length > 1) throw badRequest('"*" (all models) cannot be combined with model ids.', 'models')
      return ['*']
    }
    const byName = new Map<string, string>()
    for (const m of this.o.registry.catalog.models) for (const n of [m.id, ...(m.aliases ?? [])]) byName.set(n, m.id)
    const unknown = models.filter((m) => !byName.has(m))
    if (unknown.length)
      throw badRequest(`Not in the model catalog: ${unknown.join(', ')}.`, 'models', 'model_not_found')
    return [...new Set(models.map((m) => byName.get(m)!))]
  }

  private expires(expires: string | null | undefined): string | null | undefined {
    if (expires === undefined || expires === null) return expires
    const t = Date.parse(expires)
    if (Number.isNaN(t)) throw badRequest("Invalid value for 'expires': not a date-time.", 'expires')
    if (t <= this.now()) throw badRequest("Invalid value for 'expires': the time is in the past.", 'expires')
    return new Date(t).toISOString()
  }

  /** The key, if the caller may see it; 404 otherwise (also for others' keys, to non-admins). */
  private async visibleKey(p: UserPrincipal, id: string): Promise<ApiKeyRecord> {
    const record = await this.o.keys.get(id)
    if (!record || (!isAdmin(p) && record.owner !== p.sub))
      throw notFound(`No API key with id '${id}'.`, 'key_not_found', 'id')
    return record
  }

  private limitsError(err: unknown): never {
    if (err instanceof RangeError) throw badRequest(err.message, null, 'invalid_limits')
    if (err instanceof KeyConflictError)
      throw new ApiError(
        409,
        'The key is revoked or was changed at the same time; reload it and try again.',
        'invalid_request_error',
        'key_conflict',
      )
    throw err
  }

  async createKey(
    p: UserPrincipal,
    input: CreateKeyInput,
    ctx: RequestContext = {},
  ): Promise<{ key: string; record: ApiKeyRecord }> {
    let owner = p.sub
    if (input.owner !== undefined && input.owner !== p.sub) {
      if (!isAdmin(p)) throw forbidden('Only admins may create keys for someone else.', 'admin_required', 'owner')
      if (!this.o.users) throw usersUnavailable()
      owner = (await this.o.users.find(input.owner)).sub
    }
    const { owner: _o, models, expires, ...limits } = input
    let created
    try {
      created = await this.o.keys.create({
        ...limits,
        name: input.name,
        owner,
        models: this.models(models),
        expires: this.expires(expires) ?? null,
      })
    } catch (err) {
      this.limitsError(err)
    }
    await this.o.audit.write({
      who: actor(p),
      action: 'key.create',
      target: `key:${created.record.id}`,
      details: described(created.record),
      ...ctx,
    })
    return created
  }

  /** The caller's keys; admins: everyone's, or one owner's. */
  async listKeys(p: UserPrincipal, q: { owner?: string }): Promise<ApiKeyRecord[]> {
    if (!isAdmin(p)) {
      if (q.owner !== undefined && q.owner !== p.sub)
        throw forbidden("Only admins may list someone else's keys.", 'admin_required', 'owner')
      return this.o.keys.list(p.sub)
    }
    if (q.owner === undefined) return this.o.keys.list()
    const owner = this.o.users && !/^[0-9a-f-]{36}$/.test(q.owner) ? (await this.o.users.find(q.owner)).sub : q.owner
    return this.o.keys.list(owner)
  }

  getKey(p: UserPrincipal, id: string): Promise<ApiKeyRecord> {
    return this.visibleKey(p, id)
  }

  async updateKey(
    p: UserPrincipal,
    id: string,
    input: UpdateKeyInput,
    ctx: RequestContext = {},
  ): Promise<ApiKeyRecord> {
    const current = await this.visibleKey(p, id)
    const changes: KeyChanges = { ...input, models: this.models(input.models), expires: this.expires(input.expires) }
    for (const k of Object.keys(changes) as Array<keyof KeyChanges>) if (changes[k] === undefined) delete changes[k]
    if (Object.keys(changes).length === 0) throw badRequest('Nothing to change.', null, 'empty_update')
    let record
    try {
      record = await this.o.keys.update(current, changes)
    } catch (err) {
      this.limitsError(err)
    }
    const before: Record<string, unknown> = {}
    for (const k of Object.keys(changes)) before[k] = (current as unknown as Record<string, unknown>)[k] ?? null
    await this.o.audit.write({
      who: actor(p),
      action: 'key.update',
      target: `key:${id}`,
      details: { owner: current.owner, before, after: changes },
      ...ctx,
    })
    return record
  }

  async revokeKey(p: UserPrincipal, id: string, ctx: RequestContext = {}): Promise<ApiKeyRecord> {
    const current = await this.visibleKey(p, id)
    const record = await this.o.keys.revoke(id)
    if (!record) throw notFound(`No API key with id '${id}'.`, 'key_not_found', 'id')
    if (current.status !== 'revoked') {
      await this.o.audit.write({
        who: actor(p),
        action: 'key.revoke',
        target: `key:${id}`,
        details: { owner: current.owner, name: current.name },
        ...ctx,
      })
    }
    return record
  }

  async rotateKey(
    p: UserPrincipal,
    id: string,
    graceSeconds: number,
    ctx: RequestContext = {},
  ): Promise<{ key: string; record: ApiKeyRecord }> {
    const current = await this.visibleKey(p, id)
    let rotated
    try {
      rotated = await this.o.keys.rotate(current, graceSeconds * 1000)
    } catch (err) {
      this.limitsError(err)
    }
    await this.o.audit.write({
      who: actor(p),
      action: 'key.rotate',
      target: `key:${id}`,
      details: {
        owner: current.owner,
        name: current.name,
        gracePeriodSeconds: graceSeconds,
        graceUntil: rotated.record.graceUntil ?? null,
      },
      ...ctx,
    })
    return rotated
  }

  private directory(p: UserPrincipal): UserDirectory {
    if (!isAdmin(p)) throw forbidden('Only admins manage users.', 'admin_required')
    if (!this.o.users) throw usersUnavailable()
    return this.o.users
  }

  listUsers(p: UserPrincipal): Promise<UserView[]> {
    return this.directory(p).list()
  }

  async createUser(
    p: UserPrincipal,
    input: { email: string; group: Group; temporaryPassword?: string; sendInvite?: boolean },
    ctx: RequestContext = {},
  ): Promise<UserView> {
    const user = await this.directory(p).create(input)
    await this.o.audit.write({
      who: actor(p),
      action: 'user.create',
      target: `user:${user.username}`,
      details: { email: input.email, group: input.group, sub: user.sub, invited: input.sendInvite !== false },
      ...ctx,
    })
    return user
  }

  async disableUser(p: UserPrincipal, ref: string, ctx: RequestContext = {}): Promise<UserView> {
    const directory = this.directory(p)
    const found = await directory.find(ref)
    if (found.sub === p.sub) throw badRequest('You cannot disable yourself.', 'username', 'self_disable')
    const user = await directory.disable(found)
    await this.o.audit.write({
      who: actor(p),
      action: 'user.disable',
      target: `user:${user.username}`,
      details: { email: user.email, sub: user.sub },
      ...ctx,
    })
    return user
  }

  /**
   * Usage of the caller's keys (a person in `user`: never anyone else's), or for admins of any
   * key, any owner (user name, e-mail or sub) or everything.
   */
  async usage(p: UserPrincipal, q: UsageQuery): Promise<{ report: UsageReport; owner?: string }> {
    let owner = q.owner
    if (!isAdmin(p)) {
      if (owner !== undefined && owner !== p.sub)
        throw forbidden("Only admins may see someone else's usage.", 'admin_required', 'owner')
      owner = p.sub
    } else if (owner !== undefined && this.o.users && !/^[0-9a-f-]{36}$/.test(owner)) {
      owner = (await this.o.users.find(owner)).sub
    }
    if (q.keyId !== undefined) await this.visibleKey(p, q.keyId)
    return { report: await this.o.usage.query({ ...q, owner }), owner }
  }

  /** Admins: the audit trail between two times, newest first. */
  audit(p: UserPrincipal, q: { from?: string; to?: string; limit?: number }): Promise<AuditRecord[]> {
    if (!isAdmin(p)) throw forbidden('Only admins may read the audit trail.', 'admin_required')
    const to = q.to ? new Date(q.to).toISOString() : new Date(this.now()).toISOString()
    const from = q.from ? new Date(q.from).toISOString() : new Date(Date.parse(to) - 30 * 86_400_000).toISOString()
    if (from > to) throw badRequest("'from' is after 'to'.", 'from')
    return this.o.audit.list({ from, to, limit: q.limit ?? 100 })
  }
}
