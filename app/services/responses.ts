/**
 * Stored Responses, the use case: save a response with the input items it was built from,
 * rebuild a conversation from a `previous_response_id` chain, resolve `item_reference`s, read,
 * list input items and delete. Knows nothing of HTTP or of the Responses wire format beyond the
 * items it stores and hands back as they were.
 *
 * Access: a stored response is readable only by the key that created it (by key id, so rotating
 * the key's secret keeps access; other keys of the same owner get 404 like everyone else).
 * Expired items are missing, whatever DynamoDB's TTL has done so far. Unknown, expired, deleted
 * and foreign ids all answer the same 404.
 * https://platform.openai.com/docs/api-reference/responses/get
 */
import { notFound } from '../errors.js'
import type { KeyPrincipal } from './keys.js'
import type { ResponseStore, StoredBody, StoredResponse } from '../store/responses.js'

export type Item = Record<string, unknown>

export interface ResponsesServiceOptions {
  store: ResponseStore
  /** How long a response is kept, in seconds. */
  ttlSeconds: number
  now?: () => number
}

/** A conversation rebuilt from a stored chain. */
export interface History {
  /** Every earlier turn's input items then output items, oldest first. */
  items: Item[]
  /** The chain a response continuing it records (the previous response last). */
  chain: string[]
}

export interface ItemPage {
  object: 'list'
  data: Item[]
  first_id: string | null
  last_id: string | null
  has_more: boolean
}

const missing = (id: string, param: string | null = null) =>
  notFound(`Response with id '${id}' not found.`, 'response_not_found', param)

export class ResponsesService {
  private readonly now: () => number
  constructor(private readonly options: ResponsesServiceOptions) {
    this.now = options.now ?? Date.now
  }

  private visible(record: StoredResponse | undefined, principal: KeyPrincipal): record is StoredResponse {
    return record !== undefined && record.keyId === principal.keyId && record.expiresAt * 1000 > this.now()
  }

  /** The stored record, or 404. */
  async record(id: string, principal: KeyPrincipal, param: string | null = null): Promise<StoredResponse> {
    const record = await this.options.store.get(id)
    if (!this.visible(record, principal)) throw missing(id, param)
    return record
  }

  /** The stored response object, as it was answered. */
  async get(id: string, principal: KeyPrincipal): Promise<Item> {
    return (await this.record(id, principal)).body.response
  }

  /**
   * The conversation up to and including `previousId`: one read of the previous response, then
   * its whole chain read in parallel (two round trips whatever the length). A missing link
   * (expired, deleted) breaks the chain: 404 naming it.
   */
  async history(previousId: string, principal: KeyPrincipal): Promise<History> {
    const previous = await this.record(previousId, principal, 'previous_response_id')
    const earlier =
      previous.chain.length > 0 ? await this.options.store.getMany(previous.chain) : new Map<string, StoredResponse>()
    const items: Item[] = []
    for (const id of previous.chain) {
      const r = earlier.get(id)
      if (!this.visible(r, principal)) {
        throw notFound(
          `Response '${previousId}' continues response '${id}', which no longer exists (deleted or expired).`,
          'response_not_found',
          'previous_response_id',
        )
      }
      items.push(...turnItems(r.body))
    }
    items.push(...turnItems(previous.body))
    return { items, chain: [...previous.chain, previousId] }
  }

  /**
   * `item_reference` items replaced by the stored items they name (item ids name their response:
   * `responseOf`). Unknown ids → 404.
   */
  async resolveReferences(
    items: Item[],
    principal: KeyPrincipal,
    responseOf: (itemId: string) => string | undefined,
  ): Promise<Item[]> {
    if (!items.some((i) => i.type === 'item_reference')) return items
    const cache = new Map<string, Promise<StoredResponse>>()
    return Promise.all(
      items.map(async (item, n) => {
        if (item.type !== 'item_reference') return item
        const id = String(item.id)
        const owner = responseOf(id)
        const notThere = notFound(`Item with id '${id}' not found.`, 'item_not_found', `input[${n}].id`)
        if (!owner) throw notThere
        let p = cache.get(owner)
        if (!p) cache.set(owner, (p = this.record(owner, principal, `input[${n}].id`)))
        const found = turnItems(
          (
            await p.catch(() => {
              throw notThere
            })
          ).body,
        ).find((i) => i.id === id)
        if (!found) throw notThere
        return found
      }),
    )
  }

  async save(record: { id: string; principal: KeyPrincipal; chain: string[]; body: StoredBody }): Promise<void> {
    const now = this.now()
    await this.options.store.put({
      id: record.id,
      keyId: record.principal.keyId,
      createdAt: now,
      expiresAt: Math.floor(now / 1000) + this.options.ttlSeconds,
      chain: record.chain,
      body: record.body,
    })
  }

  /** A page of the response's input items (OpenAI's cursor pagination; newest first by default). */
  async inputItems(
    id: string,
    principal: KeyPrincipal,
    q: { after?: string; limit?: number; order?: 'asc' | 'desc' },
  ): Promise<ItemPage> {
    const { input } = (await this.record(id, principal)).body
    const ordered = q.order === 'asc' ? input : [...input].reverse()
    let start = 0
    if (q.after !== undefined) {
      const at = ordered.findIndex((i) => i.id === q.after)
      if (at < 0) throw notFound(`Item with id '${q.after}' not found in response '${id}'.`, 'item_not_found', 'after')
      start = at + 1
    }
    const limit = q.limit ?? 20
    const data = ordered.slice(start, start + limit)
    return {
      object: 'list',
      data,
      first_id: (data[0]?.id as string | undefined) ?? null,
      last_id: (data.at(-1)?.id as string | undefined) ?? null,
      has_more: start + limit < ordered.length,
    }
  }

  async delete(id: string, principal: KeyPrincipal): Promise<{ id: string; object: 'response'; deleted: true }> {
    const record = await this.record(id, principal)
    await this.options.store.delete(id, record.expiresAt)
    return { id, object: 'response', deleted: true }
  }
}

/** One stored turn as conversation items: its input, then its output. */
function turnItems(body: StoredBody): Item[] {
  return [...body.input, ...((body.response.output as Item[] | undefined) ?? [])]
}
