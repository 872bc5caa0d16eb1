/**
 * Data: the app's DynamoDB tables. The key schemas mirror app/store/tables.ts (infra never
 * imports app/; test/infra/data.test.ts checks the two agree).
 */
import { TABLE_ENV } from '../../app/config-env.js'
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { componentTags } from '../tags.js'

/** Logical table names, as in the app's `TableNames`. */
export type TableKey = 'keys' | 'usage' | 'rateLimits' | 'audit' | 'responses' | 'oauth'

export interface TableSpec {
  /** Physical name suffix: `<namePrefix>-<suffix>`. */
  suffix: string
  hashKey: string
  rangeKey?: string
  /** All key attributes are strings. */
  attributes: string[]
  globalSecondaryIndexes?: { name: string; hashKey: string; rangeKey?: string; projectionType: 'ALL' | 'KEYS_ONLY' }[]
  /** TTL attribute (epoch seconds) for tables whose items are ephemeral. */
  ttlAttribute?: string
}

/** Same name and meaning as the app's TTL_ATTRIBUTE. */
export const TTL_ATTRIBUTE = 'expiresAt'

export const TABLE_SPECS: Record<TableKey, TableSpec> = {
  keys: {
    suffix: 'keys',
    hashKey: 'id',
    attributes: ['id', 'owner', 'createdAt'],
    globalSecondaryIndexes: [{ name: 'byOwner', hashKey: 'owner', rangeKey: 'createdAt', projectionType: 'ALL' }],
  },
  // Usage and audit records are kept (billing, forensics); rate-limit windows expire.
  usage: { suffix: 'usage', hashKey: 'pk', rangeKey: 'sk', attributes: ['pk', 'sk'] },
  rateLimits: {
    suffix: 'rate-limits',
    hashKey: 'pk',
    rangeKey: 'sk',
    attributes: ['pk', 'sk'],
    ttlAttribute: TTL_ATTRIBUTE,
  },
  audit: { suffix: 'audit', hashKey: 'pk', rangeKey: 'sk', attributes: ['pk', 'sk'] },
  // Stored OpenAI Responses (`store: true`, `previous_response_id`): expire after their
  // retention (the app sets `expiresAt`; it also checks expiry itself, TTL only cleans up).
  responses: {
    suffix: 'responses',
    hashKey: 'pk',
    rangeKey: 'sk',
    attributes: ['pk', 'sk'],
    ttlAttribute: TTL_ATTRIBUTE,
  },
  // The MCP OAuth facade's registered clients, pending authorizations and authorization codes:
  // short-lived (the app checks expiry itself; TTL only cleans up). Grants live in the keys table.
  oauth: {
    suffix: 'oauth',
    hashKey: 'pk',
    rangeKey: 'sk',
    attributes: ['pk', 'sk'],
    ttlAttribute: TTL_ATTRIBUTE,
  },
}

/**
 * Tables infra declares before the app's `tableDefinitions()` has them (the app side of the
 * Responses API is built separately). test/infra/data.test.ts expects exactly these to be
 * missing on the app side and fails once the app adds one, so the entry is removed then.
 */
export const TABLES_AHEAD_OF_APP: readonly TableKey[] = []

/** The Lambda environment variable carrying each table's physical name (validated by app/config.ts). */
export const TABLE_ENV_VARS: Record<TableKey, string> = TABLE_ENV

export const TABLE_KEYS = Object.keys(TABLE_SPECS) as TableKey[]

export interface DataArgs {
  /** Prefix of every physical name, e.g. `pennyworth-prod`. */
  namePrefix: string
  /**
   * Pulumi `protect` on the tables (default true): `pulumi destroy` and removals fail until it
   * is lifted. Tables are retained on delete and have DynamoDB deletion protection regardless.
   */
  protect?: boolean
}

export class Data extends pulumi.ComponentResource {
  /** Physical table names by logical name. */
  readonly tableNames: Record<TableKey, pulumi.Output<string>>
  readonly tableArns: Record<TableKey, pulumi.Output<string>>
  readonly tables: Record<TableKey, aws.dynamodb.Table>

  constructor(name: string, args: DataArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pennyworth:infra:Data', name, {}, opts)
    const tables = {} as Record<TableKey, aws.dynamodb.Table>
    for (const key of TABLE_KEYS) {
      const spec = TABLE_SPECS[key]
      tables[key] = new aws.dynamodb.Table(
        `${name}-${spec.suffix}`,
        {
          name: `${args.namePrefix}-${spec.suffix}`,
          billingMode: 'PAY_PER_REQUEST',
          hashKey: spec.hashKey,
          rangeKey: spec.rangeKey,
          attributes: spec.attributes.map((attr) => ({ name: attr, type: 'S' })),
          globalSecondaryIndexes: spec.globalSecondaryIndexes?.map((gsi) => ({
            name: gsi.name,
            keySchemas: [
              { attributeName: gsi.hashKey, keyType: 'HASH' },
              ...(gsi.rangeKey ? [{ attributeName: gsi.rangeKey, keyType: 'RANGE' }] : []),
            ],
            projectionType: gsi.projectionType,
          })),
          pointInTimeRecovery: { enabled: true },
          deletionProtectionEnabled: true,
          // KMS encryption at rest with the AWS managed key (aws/dynamodb): no key to administer,
          // key use visible in CloudTrail.
          serverSideEncryption: { enabled: true },
          ttl: spec.ttlAttribute ? { attributeName: spec.ttlAttribute, enabled: true } : undefined,
          // Cost Explorer can tell the tables apart (storage, PITR and requests per table).
          tags: componentTags(`table-${spec.suffix}`),
        },
        { parent: this, protect: args.protect ?? true, retainOnDelete: true },
      )
    }
    this.tables = tables
    this.tableNames = mapValues(tables, (t) => t.name)
    this.tableArns = mapValues(tables, (t) => t.arn)
    this.registerOutputs({ tableNames: this.tableNames, tableArns: this.tableArns })
  }
}

function mapValues<T, U>(record: Record<TableKey, T>, fn: (value: T) => U): Record<TableKey, U> {
  return Object.fromEntries(TABLE_KEYS.map((k) => [k, fn(record[k])])) as Record<TableKey, U>
}
