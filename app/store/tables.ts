/**
 * DynamoDB table definitions: the single description of every table the app uses.
 * Local mode creates them from here; infra/data.ts declares the same key schemas (a test in
 * test/infra checks the two agree). All tables are on-demand; nothing relies on TTL for
 * correctness (the local store never expires items) — `expiresAt` only lets DynamoDB clean up.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb'

/** Logical table → physical table name (from config). */
export interface TableNames {
  keys: string
  usage: string
  rateLimits: string
  audit: string
  /** Stored Responses (OpenAI Responses API `store`), TTL-expired. */
  responses: string
  /** The MCP OAuth facade's registered clients, pending authorizations and codes, TTL-expired. */
  oauth: string
}

export const defaultTableNames: TableNames = {
  keys: 'pennyworth-keys',
  usage: 'pennyworth-usage',
  rateLimits: 'pennyworth-rate-limits',
  audit: 'pennyworth-audit',
  responses: 'pennyworth-responses',
  oauth: 'pennyworth-oauth',
}

/** Name of the TTL attribute (epoch seconds) on tables whose items are ephemeral. */
export const TTL_ATTRIBUTE = 'expiresAt'

/** Name of the keys table's owner index. */
export const KEYS_BY_OWNER_INDEX = 'byOwner'

/** CreateTable inputs for every table, under the given physical names. */
export function tableDefinitions(names: TableNames): Record<keyof TableNames, CreateTableCommandInput> {
  const pkSk = (TableName: string): CreateTableCommandInput => ({
    TableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
  })
  return {
    keys: {
      TableName: names.keys,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'owner', AttributeType: 'S' },
        { AttributeName: 'createdAt', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: KEYS_BY_OWNER_INDEX,
          KeySchema: [
            { AttributeName: 'owner', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    },
    usage: pkSk(names.usage),
    rateLimits: pkSk(names.rateLimits),
    audit: pkSk(names.audit),
    responses: pkSk(names.responses),
    oauth: pkSk(names.oauth),
  }
}
