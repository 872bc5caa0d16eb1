/**
 * Stored Responses (`store` not false): one record per response, under `pk = resp#<id>`:
 * - `sk = meta`: owner key id, times, the chain (ids of every earlier response, oldest first)
 *   and the body (the response object and its input items), gzip-compressed JSON in `data`;
 * - a body still larger than {@link PART_BYTES} after compression (DynamoDB items are limited to
 *   400 KB) is split into `sk = part#0000…` items and the meta item says how many (`parts`).
 *   Parts are written first, the meta item last: a visible meta item has all its parts.
 * Reads are strongly consistent: a client chains its next turn the moment the last one ended.
 * Every item has `expiresAt` (epoch seconds) so DynamoDB's TTL cleans up; readers check it
 * themselves (TTL deletion lags, and the local store never expires anything).
 */
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { gunzipSync, gzipSync } from 'node:zlib'
import { TTL_ATTRIBUTE } from './tables.js'

/** Largest compressed body kept inline in one item (DynamoDB's limit is 400 KB per item). */
export const PART_BYTES = 300 * 1024
/** Parallel reads of one chain. */
const READ_CONCURRENCY = 32

/** What is stored of one response. */
export interface StoredResponse {
  id: string
  /** Key id of the key that created it (the only key that may read it). */
  keyId: string
  /** Epoch ms. */
  createdAt: number
  /** Epoch seconds (the TTL attribute). */
  expiresAt: number
  /** Ids of the earlier responses of its chain, oldest first (empty for a first turn). */
  chain: string[]
  body: StoredBody
}

/** The response object as answered, and the input items it was built from (with their ids). */
export interface StoredBody {
  response: Record<string, unknown>
  input: Array<Record<string, unknown>>
}

const pk = (id: string) => `resp#${id}`
const META = 'meta'
const partKey = (n: number) => `part#${String(n).padStart(4, '0')}`

interface MetaItem {
  pk: string
  sk: string
  keyId: string
  createdAt: number
  expiresAt: number
  chain: string[]
  parts: number
  data?: Uint8Array
}

export class ResponseStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(record: StoredResponse): Promise<void> {
    const data = gzipSync(JSON.stringify(record.body))
    const parts: Uint8Array[] = []
    if (data.byteLength > PART_BYTES) {
      for (let at = 0; at < data.byteLength; at += PART_BYTES) parts.push(data.subarray(at, at + PART_BYTES))
    }
    // One part per write: 25 parts of 300 KB would exceed BatchWrite's 16 MB request limit anyway.
    await Promise.all(
      parts.map((part, n) =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: pk(record.id), sk: partKey(n), data: part, [TTL_ATTRIBUTE]: record.expiresAt },
          }),
        ),
      ),
    )
    const meta: MetaItem = {
      pk: pk(record.id),
      sk: META,
      keyId: record.keyId,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
      chain: record.chain,
      parts: parts.length,
      ...(parts.length === 0 ? { data } : {}),
    }
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: meta }))
  }

  /** The record, or undefined (expiry is the caller's check). */
  async get(id: string): Promise<StoredResponse | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: pk(id), sk: META }, ConsistentRead: true }),
    )
    return out.Item && !out.Item.deleted ? this.load(id, out.Item as MetaItem) : undefined
  }

  /**
   * Several records, read in parallel (up to {@link READ_CONCURRENCY} at a time): one round trip
   * for a chain of that length. Plain GetItem rather than BatchGetItem: the cold start already
   * carries GetItem, not BatchGetItem's SDK command and schemas. Missing ids are absent.
   */
  async getMany(ids: readonly string[]): Promise<Map<string, StoredResponse>> {
    const found = new Map<string, StoredResponse>()
    let next = 0
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++]
        const record = await this.get(id)
        if (record) found.set(id, record)
      }
    }
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, ids.length) }, worker))
    return found
  }

  /**
   * Deletes the record: the meta item is overwritten by a tombstone first (gone at once for
   * readers), then every part by an empty item; TTL removes the tombstones. Overwrites rather
   * than DeleteItem keep DeleteItem's SDK command out of the Lambda's cold start.
   */
  async delete(id: string, expiresAt: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: pk(id), sk: META, deleted: true, [TTL_ATTRIBUTE]: expiresAt },
      }),
    )
    const parts = await this.partItems(id, true)
    await Promise.all(
      parts.map((p) =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: pk(id), sk: p.sk, deleted: true, [TTL_ATTRIBUTE]: expiresAt },
          }),
        ),
      ),
    )
  }

  private async load(id: string, meta: MetaItem): Promise<StoredResponse> {
    let data: Uint8Array
    if (meta.parts > 0) {
      const parts = await this.partItems(id, false)
      if (parts.length !== meta.parts) throw new Error(`stored response ${id}: ${parts.length} of ${meta.parts} parts`)
      data = Buffer.concat(parts.map((p) => p.data!))
    } else data = meta.data!
    return {
      id,
      keyId: meta.keyId,
      createdAt: meta.createdAt,
      expiresAt: meta.expiresAt,
      chain: meta.chain ?? [],
      body: JSON.parse(gunzipSync(data).toString('utf8')) as StoredBody,
    }
  }

  private async partItems(id: string, keysOnly: boolean): Promise<Array<{ sk: string; data?: Uint8Array }>> {
    const items: Array<{ sk: string; data?: Uint8Array }> = []
    let start: Record<string, unknown> | undefined
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :part)',
          ExpressionAttributeValues: { ':pk': pk(id), ':part': 'part#' },
          ...(keysOnly
            ? { ProjectionExpression: '#s, #d', ExpressionAttributeNames: { '#s': 'sk', '#d': 'deleted' } }
            : {}),
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      )
      for (const item of (out.Items ?? []) as Array<{ sk: string; data?: Uint8Array; deleted?: boolean }>)
        if (!item.deleted) items.push(item)
      start = out.LastEvaluatedKey
    } while (start)
    return items
  }
}
