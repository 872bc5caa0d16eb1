/**
 * The audit trail: one item per change made through the admin API — who, what, on which target,
 * when, and details that never include a secret (keys, hashes, passwords, tokens). Items are
 * partitioned by month (`pk = audit#<yyyy-mm>`, `sk = <ISO time>#<id>`), written with a
 * conditional put (never overwritten) and never updated.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { randomUUID } from 'node:crypto'

/** Who made a change. */
export interface AuditActor {
  kind: 'user' | 'cli'
  /** Cognito sub, or the operating-system user of a direct (bootstrap) CLI call. */
  id: string
  /** Cognito user name, for reading. */
  name?: string
}

export interface AuditEntry {
  who: AuditActor
  /** e.g. `key.create`, `key.rotate`, `user.disable`. */
  action: string
  /** e.g. `key:abcd…`, `user:alice@example.com`. */
  target: string
  /** What changed; secrets are stripped before writing. */
  details?: Record<string, unknown>
  requestId?: string
}

export interface AuditRecord extends AuditEntry {
  id: string
  /** ISO-8601. */
  at: string
}

/** Field names that never reach the audit table, at any depth. */
const SECRET_FIELDS = new RegExp(
  `^(${[
    'key',
    'apiKey',
    'secret',
    'secretHash',
    'previousSecretHash',
    'password',
    'temporaryPassword',
    'token',
    'accessToken',
    'refreshToken',
    'idToken',
    'authorization',
  ].join('|')})$`,
  'i',
)

export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets)
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value))
      if (!SECRET_FIELDS.test(k) && v !== undefined) out[k] = withoutSecrets(v)
    return out
  }
  return value
}

const month = (iso: string) => iso.slice(0, 7)

export class AuditStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async write(entry: AuditEntry): Promise<AuditRecord> {
    const at = new Date(this.now()).toISOString()
    const record: AuditRecord = {
      id: randomUUID(),
      at,
      who: entry.who,
      action: entry.action,
      target: entry.target,
      details: withoutSecrets(entry.details ?? {}) as Record<string, unknown>,
      ...(entry.requestId ? { requestId: entry.requestId } : {}),
    }
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `audit#${month(at)}`, sk: `${at}#${record.id}`, ...record },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
    } catch (err) {
      // A random UUID collided: astronomically unlikely, and never an overwrite.
      if (err instanceof ConditionalCheckFailedException) return this.write(entry)
      throw err
    }
    return record
  }

  /** Records from `from` to `to` (ISO times, inclusive), newest first, at most `limit`. */
  async list(q: { from: string; to: string; limit: number }): Promise<AuditRecord[]> {
    const out: AuditRecord[] = []
    for (let m = month(q.to); m >= month(q.from) && out.length < q.limit; m = previousMonth(m)) {
      let ExclusiveStartKey: Record<string, unknown> | undefined
      do {
        const page = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': `audit#${m}`, ':from': q.from, ':to': `${q.to}~` },
            ScanIndexForward: false,
            Limit: q.limit - out.length,
            ExclusiveStartKey,
          }),
        )
        for (const item of page.Items ?? []) {
          const { pk: _pk, sk: _sk, ...record } = item
          out.push(record as AuditRecord)
        }
        ExclusiveStartKey = page.LastEvaluatedKey
      } while (ExclusiveStartKey && out.length < q.limit)
    }
    return out
  }
}

function previousMonth(m: string): string {
  const [y, mo] = m.split('-').map(Number)
  return mo === 1 ? `${y - 1}-12` : `${y}-${String(mo - 1).padStart(2, '0')}`
}
