/**
 * API keys: minting, parsing, verification, and the warm-path cache.
 *
 * Format: `pw-<keyId>-<secret>`: a 12-character public id (for lookup, logs and usage) and a
 * 256-bit random secret (base64url). Only SHA-256 of the secret is stored; a fast hash is
 * right for a uniformly random 256-bit secret (no dictionary to guard against), and it keeps
 * verification cheap on every request. The comparison is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { ApiError, forbidden, unauthorized } from '../errors.js'
import { KEY_LIMIT_FIELDS, type ApiKeyRecord, type KeyChanges, type KeyLimits, type KeyStore } from '../store/keys.js'

const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789' // 32 symbols, no look-alikes (l, o, 0, 1)
const ID_LENGTH = 12
const SECRET_BYTES = 32
const KEY_PATTERN = /^pw-([a-z2-9]{12})-([A-Za-z0-9_-]{43})$/

/** Who is calling: the verified key. */
export interface KeyPrincipal {
  kind: 'api-key'
  keyId: string
  owner: string
  name: string
  /** Catalog model ids, or ["*"]. */
  models: string[]
  /** Budget and rate limits of the key (absent = none); see store/keys.ts KeyLimits. */
  limits?: KeyLimits
  /** OAuth grants: the only route family that accepts this credential (plugins/auth.ts). */
  audience?: string
}

/** Only the limit fields that are set (non-null), copied from a record or an input. */
export function pickLimits(source: KeyLimits): KeyLimits {
  const limits: KeyLimits = {}
  for (const f of KEY_LIMIT_FIELDS) {
    const v = source[f]
    if (v !== undefined && v !== null) limits[f] = v
  }
  return limits
}

/**
 * Checks limit values: non-negative safe integers (budgets in micro-USD), rpm/tpm ≥ 1, and a soft
 * threshold not above the budget. Returns an error message, or undefined when they are valid.
 */
export function invalidLimits(limits: KeyLimits): string | undefined {
  for (const f of KEY_LIMIT_FIELDS) {
    const v = limits[f]
    if (v === undefined || v === null) continue
    if (!Number.isSafeInteger(v) || v < 0) return `${f} must be a non-negative integer`
    if ((f === 'rpm' || f === 'tpm') && v < 1) return `${f} must be at least 1`
  }
  const { monthlyBudgetMicroUsd: budget, softBudgetMicroUsd: soft } = limits
  if (soft != null && budget != null && soft > budget) return 'softBudgetMicroUsd must not exceed monthlyBudgetMicroUsd'
  return undefined
}

export function newKeyId(): string {
  const bytes = randomBytes(ID_LENGTH)
  let id = ''
  for (const b of bytes) id += ID_ALPHABET[b & 31]
  return id
}

/** Mints a new key: the full key (shown once) and its parts. */
export function mintKey(keyId = newKeyId()): { key: string; keyId: string; secretHash: string } {
  const secret = randomBytes(SECRET_BYTES).toString('base64url')
  return { key: `pw-${keyId}-${secret}`, keyId, secretHash: hashSecret(secret) }
}

/** Splits a presented key into id and secret; undefined when it is not of our format. */
export function parseKey(raw: string): { keyId: string; secret: string } | undefined {
  const m = KEY_PATTERN.exec(raw)
  return m ? { keyId: m[1], secret: m[2] } : undefined
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex')
  const y = Buffer.from(b, 'hex')
  return x.length === y.length && timingSafeEqual(x, y)
}

/** May this principal use this catalog model? */
export function keyAllowsModel(principal: Pick<KeyPrincipal, 'models'>, modelId: string): boolean {
  return principal.models.includes('*') || principal.models.includes(modelId)
}

/** Throws 403 unless the key may use the model. */
export function assertModelAllowed(principal: KeyPrincipal, modelId: string, param = 'model'): void {
  if (!keyAllowsModel(principal, modelId)) {
    throw forbidden(`This API key may not use the model '${modelId}'.`, 'model_not_allowed', param)
  }
}

export interface KeyServiceOptions {
  /** Cache lifetime of a looked-up key (also how long a revocation can take to apply). */
  cacheTtlMs: number
  /** Upper bound on cached entries. */
  cacheMaxEntries?: number
  now?: () => number
}

interface CacheEntry {
  record: ApiKeyRecord | undefined
  until: number
  at: number
}

/** A wrong secret for a cached key re-reads it (a rotation elsewhere) at most this often. */
const MISMATCH_REFRESH_MS = 1_000

/** Longest grace period of a rotated-out secret. */
export const MAX_ROTATION_GRACE_MS = 30 * 86_400_000

/** Negative lookups (unknown ids) are cached briefly, so garbage keys cannot hammer DynamoDB. */
const NEGATIVE_TTL_MS = 5_000

export class KeyService {
  private readonly cache = new Map<string, CacheEntry>()
  private readonly inflight = new Map<string, Promise<ApiKeyRecord | undefined>>()
  private readonly now: () => number
  private readonly maxEntries: number
  /** Look-ups answered from the cache / not (a metric: the key-cache hit ratio). */
  cacheHits = 0
  cacheMisses = 0

  constructor(
    private readonly store: KeyStore,
    private readonly options: KeyServiceOptions,
  ) {
    this.now = options.now ?? Date.now
    this.maxEntries = options.cacheMaxEntries ?? 10_000
  }

  /** Creates a key; the returned `key` is the only time the secret exists outside the caller. */
  async create(
    input: { name: string; owner: string; models?: string[]; expires?: string | null } & KeyLimits,
  ): Promise<{ key: string; record: ApiKeyRecord }> {
    const problem = invalidLimits(input)
    if (problem) throw new RangeError(problem)
    const { key, keyId, secretHash } = mintKey()
    const record: ApiKeyRecord = {
      id: keyId,
      name: input.name,
      owner: input.owner,
      createdAt: new Date(this.now()).toISOString(),
      expires: input.expires ?? null,
      status: 'active',
      models: input.models && input.models.length > 0 ? input.models : ['*'],
      secretHash,
      ...pickLimits(input),
    }
    await this.store.create(record)
    return { key, record }
  }

  list(owner?: string): Promise<ApiKeyRecord[]> {
    return this.store.list(owner)
  }

  async revoke(id: string): Promise<ApiKeyRecord | undefined> {
    const record = await this.store.revoke(id, new Date(this.now()).toISOString())
    this.cache.delete(id)
    return record
  }

  /** The stored record, uncached (admin reads). */
  get(id: string): Promise<ApiKeyRecord | undefined> {
    return this.store.get(id)
  }

  /**
   * Changes an active key; limits are validated together with the ones it keeps. Throws
   * RangeError for invalid limits and the store's KeyConflictError for a missing or revoked key.
   */
  async update(current: ApiKeyRecord, changes: KeyChanges): Promise<ApiKeyRecord> {
    const kept = pickLimits(current)
    const merged: KeyLimits = { ...kept }
    for (const f of KEY_LIMIT_FIELDS) if (changes[f] !== undefined) merged[f] = changes[f]
    const problem = invalidLimits(merged)
    if (problem) throw new RangeError(problem)
    const record = await this.store.update(current.id, changes, new Date(this.now()).toISOString())
    this.cache.delete(current.id)
    return record
  }

  /**
   * Gives an active key a new secret (same id). The replaced secret keeps working for `graceMs`
   * (0 = stops now), checked against the clock on every use, so caching never extends it.
   * Only the latest replaced secret is kept: rotating again ends the previous grace period.
   */
  async rotate(current: ApiKeyRecord, graceMs: number): Promise<{ key: string; record: ApiKeyRecord }> {
    if (!Number.isSafeInteger(graceMs) || graceMs < 0 || graceMs > MAX_ROTATION_GRACE_MS)
      throw new RangeError('grace period out of range')
    const { key, secretHash } = mintKey(current.id)
    const now = this.now()
    const record = await this.store.rotate(current.id, {
      expectedHash: current.secretHash,
      newHash: secretHash,
      graceUntil: graceMs > 0 ? new Date(now + graceMs).toISOString() : undefined,
      at: new Date(now).toISOString(),
    })
    this.cache.delete(current.id)
    return { key, record }
  }

  /**
   * Verifies a presented key and returns its principal; throws 401 for malformed, unknown,
   * wrong-secret, revoked and expired keys (one message for all, so callers learn nothing).
   */
  async authenticate(raw: string): Promise<KeyPrincipal> {
    const parsed = parseKey(raw)
    if (!parsed) throw unauthorized()
    const hash = hashSecret(parsed.secret)
    let record = await this.lookup(parsed.keyId)
    if (record && !this.secretMatches(record, hash)) {
      // Perhaps rotated on another instance since we cached it: re-read, at most once a second.
      const cached = this.cache.get(parsed.keyId)
      if (cached && this.now() - cached.at >= MISMATCH_REFRESH_MS) {
        this.cache.delete(parsed.keyId)
        record = await this.lookup(parsed.keyId)
      }
    }
    if (!record || !this.secretMatches(record, hash)) throw unauthorized()
    if (record.status !== 'active') throw unauthorized('This API key has been revoked.', 'revoked_api_key')
    if (record.expires !== null && Date.parse(record.expires) <= this.now()) {
      throw unauthorized('This API key has expired.', 'expired_api_key')
    }
    // OAuth access tokens are short-lived secrets of their grant (services/oauth.ts).
    if (record.secretExpiresAt !== undefined && Date.parse(record.secretExpiresAt) <= this.now()) {
      throw unauthorized('The access token has expired; refresh it.', 'invalid_token')
    }
    const limits = pickLimits(record)
    return {
      kind: 'api-key',
      keyId: record.id,
      owner: record.owner,
      name: record.name,
      models: record.models,
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      ...(record.audience !== undefined ? { audience: record.audience } : {}),
    }
  }

  /** Forgets a cached record (after a change made outside this service, e.g. an OAuth refresh). */
  forget(id: string): void {
    this.cache.delete(id)
  }

  /** The current secret, or the replaced one while its grace period lasts. */
  private secretMatches(record: ApiKeyRecord, hash: string): boolean {
    if (sameHash(hash, record.secretHash)) return true
    return (
      record.previousSecretHash !== undefined &&
      record.graceUntil !== undefined &&
      Date.parse(record.graceUntil) > this.now() &&
      sameHash(hash, record.previousSecretHash)
    )
  }

  /** Cached read; concurrent cold lookups of one id share a single DynamoDB call. */
  private async lookup(keyId: string): Promise<ApiKeyRecord | undefined> {
    const now = this.now()
    const hit = this.cache.get(keyId)
    if (hit && hit.until > now) {
      this.cacheHits++
      return hit.record
    }
    this.cacheMisses++
    const pending = this.inflight.get(keyId)
    if (pending) return pending
    const p = this.store
      .get(keyId)
      .catch((err: unknown) => {
        // The key store cannot be reached: keys verified within the cache TTL keep working
        // (above); others get a retryable 503, never a 500 and never a pass.
        throw keyStoreUnavailable(err)
      })
      .then((record) => {
        const ttl = record ? this.options.cacheTtlMs : Math.min(NEGATIVE_TTL_MS, this.options.cacheTtlMs)
        if (ttl > 0) {
          if (this.cache.size >= this.maxEntries) this.evictExpired(now)
          this.cache.delete(keyId)
          this.cache.set(keyId, { record, until: this.now() + ttl, at: this.now() })
        }
        return record
      })
      .finally(() => this.inflight.delete(keyId))
    this.inflight.set(keyId, p)
    return p
  }

  private evictExpired(now: number): void {
    for (const [id, entry] of this.cache) if (entry.until <= now) this.cache.delete(id)
    // Still full: drop the oldest insertions (Map iterates in insertion order).
    for (const id of this.cache.keys()) {
      if (this.cache.size < this.maxEntries) break
      this.cache.delete(id)
    }
  }
}

/** 503, retry in a second, for a key that cannot be checked because the key store is down. */
function keyStoreUnavailable(cause: unknown): ApiError {
  return new ApiError(
    503,
    'API keys cannot be checked right now; please retry shortly.',
    'api_error',
    'keys_unavailable',
    null,
    { retryAfterSeconds: 1, cause },
  )
}
