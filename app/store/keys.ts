/**
 * API key records in DynamoDB. Only the hash of a key's secret is stored, never the key.
 * Writes are conditional (create never overwrites; updates need the item to exist) and
 * nothing relies on transactions or TTL, which the local store lacks.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb'
import { KEYS_BY_OWNER_INDEX } from './tables.js'

/**
 * Per-key budget and rate limits. Absent or null = no limit. Enforced by services/limits.ts
 * before any upstream call; the admin API reads and updates them.
 */
export interface KeyLimits {
  /** Monthly (UTC calendar month) spend cap in integer micro-USD (1 USD = 1,000,000). */
  monthlyBudgetMicroUsd?: number | null
  /** Soft threshold in micro-USD (≤ the budget): reported (header, /v1/usage), never enforced. */
  softBudgetMicroUsd?: number | null
  /** Requests per minute. */
  rpm?: number | null
  /** Tokens (input + output) per minute. */
  tpm?: number | null
}

/** The limit fields of a key, in the order they are documented. */
export const KEY_LIMIT_FIELDS = ['monthlyBudgetMicroUsd', 'softBudgetMicroUsd', 'rpm', 'tpm'] as const

/** One API key as stored. */
export interface ApiKeyRecord extends KeyLimits {
  /** Public key id: appears in the key, in logs and in usage records. */
  id: string
  name: string
  /** Who the key belongs to (a user name or Cognito subject). */
  owner: string
  /** ISO-8601. */
  createdAt: string
  /** ISO-8601, or null for a key that never expires. */
  expires: string | null
  status: 'active' | 'revoked'
  revokedAt?: string
  /** Catalog model ids the key may use; `["*"]` = all served models. */
  models: string[]
  /** Hex SHA-256 of the key's secret (see services/keys.ts). */
  secretHash: string
  /** After a rotation: the hash of the replaced secret, accepted until `graceUntil`. */
  previousSecretHash?: string
  /** ISO-8601: the end of the replaced secret's grace period (checked in code on every use). */
  graceUntil?: string
  /** ISO-8601: the last rotation. */
  rotatedAt?: string
  /** ISO-8601: the last change through the admin API. */
  updatedAt?: string
  /**
   * OAuth grants (services/oauth.ts) only. `audience`: the one route family the key is accepted
   * on (`mcp`); `secretExpiresAt`: the end of the current secret (the access token);
   * `refreshHash`: hex SHA-256 of the current refresh token's secret, `previousRefreshHash` the
   * one it replaced (presenting that again revokes the grant); `refreshExpiresAt`: the end of the
   * current refresh token; `oauthClientId`: the client the grant was issued to.
   */
  audience?: string
  secretExpiresAt?: string
  oauthClientId?: string
  refreshHash?: string
  previousRefreshHash?: string
  refreshExpiresAt?: string
}

/** A refresh of an OAuth grant: new access secret and refresh token, conditional on the presented one. */
export interface GrantRefresh {
  presentedRefreshHash: string
  secretHash: string
  secretExpiresAt: string
  refreshHash: string
  refreshExpiresAt: string
  at: string
}

/** What an update may change; `null` clears an optional field (expiry, a limit). */
export type KeyChanges = Partial<Pick<ApiKeyRecord, 'name' | 'models' | 'expires'>> & KeyLimits

export class KeyExistsError extends Error {}

/** A conditional write on a key failed: it does not exist, or it is no longer what the caller saw. */
export class KeyConflictError extends Error {
  override name = 'KeyConflictError'
}

export class KeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Creates a key record; fails with KeyExistsError rather than overwrite an id. */
  async create(record: ApiKeyRecord): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: record,
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      )
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new KeyExistsError(`key id ${record.id} exists`)
      throw err
    }
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { id } }))
    return out.Item as ApiKeyRecord | undefined
  }

  /** Every key of one owner (GSI query), or of everyone (scan) when owner is undefined. */
  async list(owner?: string): Promise<ApiKeyRecord[]> {
    const items: ApiKeyRecord[] = []
    let ExclusiveStartKey: Record<string, unknown> | undefined
    do {
      const out =
        owner === undefined
          ? await this.doc.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey }))
          : await this.doc.send(
              new QueryCommand({
                TableName: this.tableName,
                IndexName: KEYS_BY_OWNER_INDEX,
                KeyConditionExpression: '#owner = :owner',
                ExpressionAttributeNames: { '#owner': 'owner' },
                ExpressionAttributeValues: { ':owner': owner },
                ExclusiveStartKey,
              }),
            )
      items.push(...(out.Items as ApiKeyRecord[]))
      ExclusiveStartKey = out.LastEvaluatedKey
    } while (ExclusiveStartKey)
    return items.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  }

  /**
   * Changes name, models, expiry or limits of an active key (a `null` limit is removed, a `null`
   * expiry means never); returns the updated record. KeyConflictError if it does not exist or is
   * revoked.
   */
  async update(id: string, changes: KeyChanges, at: string): Promise<ApiKeyRecord> {
    const names: Record<string, string> = { '#status': 'status' }
    const values: Record<string, unknown> = { ':active': 'active', ':at': at }
    const set: string[] = ['updatedAt = :at']
    const remove: string[] = []
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue
      names[`#${field}`] = field
      if (value === null && field !== 'expires') remove.push(`#${field}`)
      else {
        values[`:${field}`] = value
        set.push(`#${field} = :${field}`)
      }
    }
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(id) AND #status = :active',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      )
      return out.Attributes as ApiKeyRecord
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException)
        throw new KeyConflictError(`key ${id} does not exist or is revoked`)
      throw err
    }
  }

  /**
   * Replaces the secret of an active key, keeping the replaced one's hash until `graceUntil`
   * (none when graceUntil is undefined). Conditional on the secret still being `expectedHash`, so
   * two concurrent rotations cannot both succeed. KeyConflictError otherwise.
   */
  async rotate(
    id: string,
    r: { expectedHash: string; newHash: string; graceUntil: string | undefined; at: string },
  ): Promise<ApiKeyRecord> {
    const values: Record<string, unknown> = {
      ':active': 'active',
      ':expected': r.expectedHash,
      ':new': r.newHash,
      ':at': r.at,
    }
    let update = 'SET secretHash = :new, rotatedAt = :at, updatedAt = :at'
    if (r.graceUntil !== undefined) {
      update += ', previousSecretHash = :expected, graceUntil = :grace'
      values[':grace'] = r.graceUntil
    } else update += ' REMOVE previousSecretHash, graceUntil'
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: update,
          ConditionExpression: 'attribute_exists(id) AND #status = :active AND secretHash = :expected',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      )
      return out.Attributes as ApiKeyRecord
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException)
        throw new KeyConflictError(`key ${id} changed, does not exist or is revoked`)
      throw err
    }
  }

  /**
   * Rotates an active OAuth grant's access secret and refresh token in one conditional write,
   * so a refresh token works once even when two refreshes race. KeyConflictError otherwise.
   */
  async refreshGrant(id: string, r: GrantRefresh): Promise<ApiKeyRecord> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression:
            'SET secretHash = :secret, secretExpiresAt = :secretExp, refreshHash = :refresh, ' +
            'previousRefreshHash = :presented, refreshExpiresAt = :refreshExp, rotatedAt = :at',
          ConditionExpression: 'attribute_exists(id) AND #status = :active AND refreshHash = :presented',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':active': 'active',
            ':presented': r.presentedRefreshHash,
            ':secret': r.secretHash,
            ':secretExp': r.secretExpiresAt,
            ':refresh': r.refreshHash,
            ':refreshExp': r.refreshExpiresAt,
            ':at': r.at,
          },
          ReturnValues: 'ALL_NEW',
        }),
      )
      return out.Attributes as ApiKeyRecord
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException)
        throw new KeyConflictError(`grant ${id} changed, does not exist or is revoked`)
      throw err
    }
  }

  /** Marks a key revoked; returns the updated record, or undefined if there is no such key. */
  async revoke(id: string, at: string): Promise<ApiKeyRecord | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'SET #status = :revoked, revokedAt = if_not_exists(revokedAt, :at)',
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':revoked': 'revoked', ':at': at },
          ReturnValues: 'ALL_NEW',
        }),
      )
      return out.Attributes as ApiKeyRecord
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined
      throw err
    }
  }
}
