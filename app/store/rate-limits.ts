/**
 * Fixed one-minute rate-limit windows in DynamoDB (table `rateLimits`, pk/sk), shared by every
 * gateway instance. One item per key and minute: pk `key#<keyId>`, sk `minute#<YYYY-MM-DDTHH:MM>`
 * with counters `requests` and `tokens`. Admission is one conditional UpdateItem (ADD under a
 * ConditionExpression): atomic across instances, and a refused request changes nothing.
 * `expiresAt` only lets DynamoDB's TTL clean old windows up; correctness never depends on it
 * (the window is part of the key).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { TTL_ATTRIBUTE } from './tables.js'

export const WINDOW_MS = 60_000

/** The window (its start in ms) a time falls in. */
export const windowStart = (ms: number): number => Math.floor(ms / WINDOW_MS) * WINDOW_MS

/** Counts of one window. */
export interface WindowCounts {
  requests: number
  tokens: number
}

/** What one admission asks for. */
export interface AdmitRequest {
  keyId: string
  /** Window start (ms), see windowStart. */
  window: number
  /** Tokens to charge now (the estimate; corrected later with `adjust`). */
  tokens: number
  /** Admit only while the window has fewer requests than this. */
  rpm?: number
  /** Admit only while the window has fewer tokens than this. */
  tpm?: number
}

const skOf = (window: number) => `minute#${new Date(window).toISOString().slice(0, 16)}`
const pkOf = (keyId: string) => `key#${keyId}`

export class RateLimitStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Counts one request and its estimated tokens into the window if it is under both limits.
   * Returns the window's counts after the admission, or before the refusal.
   */
  async admit(req: AdmitRequest): Promise<{ ok: boolean; counts: WindowCounts }> {
    const conditions: string[] = []
    const values: Record<string, unknown> = {
      ':one': 1,
      ':tokens': req.tokens,
      ':expires': Math.floor((req.window + 3 * WINDOW_MS) / 1000),
    }
    if (req.rpm !== undefined) {
      conditions.push('(attribute_not_exists(requests) OR requests < :rpm)')
      values[':rpm'] = req.rpm
    }
    if (req.tpm !== undefined) {
      conditions.push('(attribute_not_exists(tokens) OR tokens < :tpm)')
      values[':tpm'] = req.tpm
    }
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: pkOf(req.keyId), sk: skOf(req.window) },
          UpdateExpression: 'ADD requests :one, tokens :tokens SET #ttl = if_not_exists(#ttl, :expires)',
          ...(conditions.length ? { ConditionExpression: conditions.join(' AND ') } : {}),
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      )
      return { ok: true, counts: toCounts(out.Attributes) }
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err
      return { ok: false, counts: await this.get(req.keyId, req.window) }
    }
  }

  /** Adds (possibly negative) corrections to a window: estimate → actual tokens, refunds. */
  async adjust(keyId: string, window: number, delta: Partial<WindowCounts>): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pkOf(keyId), sk: skOf(window) },
        UpdateExpression: 'ADD requests :r, tokens :t SET #ttl = if_not_exists(#ttl, :expires)',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':r': delta.requests ?? 0,
          ':t': delta.tokens ?? 0,
          ':expires': Math.floor((window + 3 * WINDOW_MS) / 1000),
        },
      }),
    )
  }

  async get(keyId: string, window: number): Promise<WindowCounts> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: pkOf(keyId), sk: skOf(window) },
        ConsistentRead: true,
      }),
    )
    return toCounts(out.Item)
  }
}

function toCounts(item: Record<string, unknown> | undefined): WindowCounts {
  return { requests: Number(item?.requests ?? 0), tokens: Number(item?.tokens ?? 0) }
}
