/**
 * Sign-in keys: what a person signed in with Cognito (an MCP client that did the OAuth flow) is
 * metered against. Every use case meters, limits and scopes calls by API key, so each person
 * gets one key record of their own, made on first use: id derived from their Cognito `sub`
 * (the same on every instance, so concurrent first uses create it once — a conditional put),
 * owner = sub, name "MCP sign-in", all models. Its secret is thrown away: it can never be
 * presented as an API key. Admins see, limit (budget, rate, models) and revoke it like any
 * other key through the admin API; revoking it ends that person's signed-in model use.
 */
import { createHash } from 'node:crypto'
import { forbidden, unauthorized } from '../errors.js'
import { KeyExistsError, type ApiKeyRecord, type KeyStore } from '../store/keys.js'
import type { UserPrincipal } from './jwt.js'
import { mintKey, pickLimits, type KeyPrincipal } from './keys.js'

export const SIGN_IN_KEY_NAME = 'MCP sign-in'

const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789' // the key id alphabet (services/keys.ts)

/** The sign-in key id of a Cognito subject: 12 symbols of SHA-256("sign-in:" + sub). */
export function signInKeyId(sub: string): string {
  const digest = createHash('sha256').update(`sign-in:${sub}`).digest()
  let id = ''
  for (let i = 0; i < 12; i++) id += ID_ALPHABET[digest[i] & 31]
  return id
}

export interface SignInKeysOptions {
  store: Pick<KeyStore, 'get' | 'create'>
  /** How long a looked-up record is reused (like API keys: also the revocation delay). */
  cacheTtlMs: number
  now?: () => number
}

export class SignInKeys {
  private readonly cache = new Map<string, { record: ApiKeyRecord; until: number }>()
  private readonly now: () => number

  constructor(private readonly options: SignInKeysOptions) {
    this.now = options.now ?? Date.now
  }

  /** The key principal a signed-in person's calls run as; 403 when it was revoked or expired. */
  async principal(user: UserPrincipal): Promise<KeyPrincipal> {
    const record = await this.record(user)
    if (record.owner !== user.sub) throw unauthorized('This sign-in cannot be used for model calls.', 'invalid_token')
    if (record.status !== 'active') {
      throw forbidden(
        'Your MCP sign-in key has been revoked; ask an administrator, or connect with an API key.',
        'revoked_api_key',
      )
    }
    if (record.expires !== null && Date.parse(record.expires) <= this.now()) {
      throw forbidden(
        'Your MCP sign-in key has expired; ask an administrator, or connect with an API key.',
        'expired_api_key',
      )
    }
    const limits = pickLimits(record)
    return {
      kind: 'api-key',
      keyId: record.id,
      owner: record.owner,
      name: record.name,
      models: record.models,
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
    }
  }

  private async record(user: UserPrincipal): Promise<ApiKeyRecord> {
    const id = signInKeyId(user.sub)
    const now = this.now()
    const hit = this.cache.get(id)
    if (hit && hit.until > now) return hit.record
    let record = await this.options.store.get(id)
    if (!record) {
      const fresh: ApiKeyRecord = {
        id,
        name: SIGN_IN_KEY_NAME,
        owner: user.sub,
        createdAt: new Date(now).toISOString(),
        expires: null,
        status: 'active',
        models: ['*'],
        secretHash: mintKey(id).secretHash,
      }
      try {
        await this.options.store.create(fresh)
        record = fresh
      } catch (err) {
        if (!(err instanceof KeyExistsError)) throw err
        record = await this.options.store.get(id) // made by a concurrent first use
        if (!record) throw err
      }
    }
    if (this.options.cacheTtlMs > 0) {
      if (this.cache.size >= 10_000) this.cache.clear()
      this.cache.set(id, { record, until: now + this.options.cacheTtlMs })
    }
    return record
  }
}
