/**
 * The OAuth facade's short-lived state (services/oauth.ts), one table, `pk`/`sk` strings:
 * - `client#<client_id>` / `client`: a dynamically registered client (RFC 7591);
 * - `pending#<id>` / `pending`: an authorization request between `/oauth/authorize` and the
 *   consent form (and, deployed, the Cognito round trip): the client's request, the CSRF token,
 *   the Cognito PKCE verifier, and the person once known;
 * - `code#<sha256(code)>` / `code`: an issued authorization code (only its hash is stored).
 *
 * Single use is a conditional write (`attribute_not_exists(usedAt)`), never a transaction.
 * Every item has `expiresAt` (epoch seconds) for DynamoDB's TTL; readers check it themselves
 * (TTL deletion lags, and the local store never expires anything).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { TTL_ATTRIBUTE } from './tables.js'

/** A registered client (RFC 7591 §2 metadata we keep). Public clients only: no secret. */
export interface OAuthClientRecord {
  clientId: string
  clientName: string
  redirectUris: string[]
  /** Epoch seconds. */
  createdAt: number
  /** Epoch seconds (TTL). */
  expiresAt: number
}

/** Who approved an authorization: a Cognito person, or the local admin. */
export interface OAuthUser {
  /** Owner of the grant's key: the Cognito `sub`, or `local`. */
  sub: string
  /** Shown on the consent page and in the key's name. */
  username: string
}

/** An authorization request waiting for sign-in and consent. */
export interface PendingAuthorization {
  id: string
  clientId: string
  clientName: string
  redirectUri: string
  codeChallenge: string
  state: string
  resource: string
  /** Binds the consent form (and the Cognito round trip) to the browser that started it. */
  csrf: string
  /** Deployed: the PKCE verifier of the gateway's own request to Cognito's managed login. */
  cognitoVerifier?: string
  /** Set once the person is known (at once locally; after the Cognito callback deployed). */
  user?: OAuthUser
  /** Epoch seconds. */
  expiresAt: number
}

/** An issued authorization code, stored under the hash of the code. */
export interface AuthorizationCodeRecord {
  codeHash: string
  clientId: string
  clientName: string
  redirectUri: string
  codeChallenge: string
  resource: string
  user: OAuthUser
  /** Epoch seconds. */
  expiresAt: number
  /** ISO-8601: when it was redeemed (a second redemption is a replay). */
  usedAt?: string
  /** The grant (key id) it was redeemed for: revoked when the code is replayed. */
  keyId?: string
}

/** A single-use item was already used (or never existed). */
export class AlreadyUsedError extends Error {
  override name = 'AlreadyUsedError'
}

const clientKey = (id: string) => ({ pk: `client#${id}`, sk: 'client' })
const pendingKey = (id: string) => ({ pk: `pending#${id}`, sk: 'pending' })
const codeKey = (hash: string) => ({ pk: `code#${hash}`, sk: 'code' })

export class OAuthStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putClient(client: OAuthClientRecord): Promise<void> {
    await this.put({ ...clientKey(client.clientId), ...client, [TTL_ATTRIBUTE]: client.expiresAt }, 'pk')
  }

  getClient(clientId: string): Promise<OAuthClientRecord | undefined> {
    return this.get<OAuthClientRecord>(clientKey(clientId))
  }

  async putPending(pending: PendingAuthorization): Promise<void> {
    await this.put({ ...pendingKey(pending.id), ...pending, [TTL_ATTRIBUTE]: pending.expiresAt }, 'pk')
  }

  getPending(id: string): Promise<PendingAuthorization | undefined> {
    return this.get<PendingAuthorization>(pendingKey(id))
  }

  /** Records who signed in, once: AlreadyUsedError if the request already has a person or is gone. */
  async setPendingUser(id: string, user: OAuthUser): Promise<void> {
    await this.useOnce(pendingKey(id), 'SET #user = :user', { ':user': user }, 'attribute_not_exists(#user)', {
      '#user': 'user',
    })
  }

  /** Consumes a pending request (consent given or refused): AlreadyUsedError on the second try. */
  async consumePending(id: string, at: string): Promise<void> {
    await this.useOnce(pendingKey(id), 'SET usedAt = :at', { ':at': at }, 'attribute_not_exists(usedAt)')
  }

  async putCode(code: AuthorizationCodeRecord): Promise<void> {
    await this.put({ ...codeKey(code.codeHash), ...code, [TTL_ATTRIBUTE]: code.expiresAt }, 'pk')
  }

  getCode(codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
    return this.get<AuthorizationCodeRecord>(codeKey(codeHash))
  }

  /** Redeems a code once; AlreadyUsedError (a replay) on every later try. */
  async redeemCode(codeHash: string, at: string): Promise<void> {
    await this.useOnce(codeKey(codeHash), 'SET usedAt = :at', { ':at': at }, 'attribute_not_exists(usedAt)')
  }

  /** Notes the grant a redeemed code produced (so a replay can revoke it). */
  async setCodeGrant(codeHash: string, keyId: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: codeKey(codeHash),
        UpdateExpression: 'SET keyId = :k',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':k': keyId },
      }),
    )
  }

  private async put(item: Record<string, unknown>, keyAttr: string): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: item,
        ConditionExpression: `attribute_not_exists(${keyAttr})`,
      }),
    )
  }

  private async get<T>(key: { pk: string; sk: string }): Promise<T | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))
    if (!out.Item) return undefined
    const { pk: _pk, sk: _sk, ...rest } = out.Item
    return rest as T
  }

  private async useOnce(
    key: { pk: string; sk: string },
    update: string,
    values: Record<string, unknown>,
    condition: string,
    names?: Record<string, string>,
  ): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: update,
          ConditionExpression: `attribute_exists(pk) AND ${condition}`,
          ExpressionAttributeValues: values,
          ...(names ? { ExpressionAttributeNames: names } : {}),
        }),
      )
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new AlreadyUsedError(`${key.pk} already used`)
      throw err
    }
  }
}
