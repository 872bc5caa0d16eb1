/**
 * infra/data.ts declares the same tables as app/store/tables.ts (infra must not import app/;
 * tests may import both), and the Data component on its own.
 */
import t from 'tap'
import {
  KEYS_BY_OWNER_INDEX,
  TTL_ATTRIBUTE as APP_TTL,
  defaultTableNames,
  tableDefinitions,
} from '../../app/store/tables.js'
import {
  TABLES_AHEAD_OF_APP,
  TABLE_ENV_VARS,
  TABLE_KEYS,
  TABLE_SPECS,
  TTL_ATTRIBUTE,
} from '../../infra/components/data.js'
import { setupMocks, valueOf } from '../../infra/testing/mocks.js'

const mocks = await setupMocks()
const { Data } = await import('../../infra/components/data.js')

/** A CreateTable input reduced to what both sides must agree on. */
function shape(def: {
  AttributeDefinitions?: { AttributeName?: string; AttributeType?: string }[]
  KeySchema?: { AttributeName?: string; KeyType?: string }[]
  GlobalSecondaryIndexes?: {
    IndexName?: string
    KeySchema?: { AttributeName?: string; KeyType?: string }[]
    Projection?: { ProjectionType?: string }
  }[]
}) {
  return {
    attributes: (def.AttributeDefinitions ?? []).map((a) => `${a.AttributeName}:${a.AttributeType}`).sort(),
    keys: (def.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`),
    indexes: (def.GlobalSecondaryIndexes ?? []).map((g) => ({
      name: g.IndexName,
      keys: (g.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`),
      projection: g.Projection?.ProjectionType,
    })),
  }
}

t.test('infra key schemas and indexes agree with app tableDefinitions()', async (t) => {
  const app = tableDefinitions(defaultTableNames) as Record<string, ReturnType<typeof tableDefinitions>['keys']>
  // Infra may be ahead of the app by the tables listed in TABLES_AHEAD_OF_APP (declared in the
  // data stack before the app uses them). Any other infra table must exist in the app, and every
  // table both sides define is compared below — including one of those, once the app has it.
  const missingInApp = TABLE_KEYS.filter((k) => !(k in app))
  t.same(
    missingInApp.filter((k) => !TABLES_AHEAD_OF_APP.includes(k)),
    [],
    'every infra table not listed as ahead of the app is in the app',
  )
  if (missingInApp.length < TABLES_AHEAD_OF_APP.length)
    t.comment(
      `the app now defines ${TABLES_AHEAD_OF_APP.filter((k) => k in app).join(', ')}: ` +
        `remove it from TABLES_AHEAD_OF_APP`,
    )
  t.same(
    Object.keys(app).filter((k) => !(TABLE_KEYS as string[]).includes(k)),
    [],
    'every app table is in the data stack',
  )
  for (const key of TABLE_KEYS.filter((k) => k in app)) {
    const spec = TABLE_SPECS[key]
    const infra = shape({
      AttributeDefinitions: spec.attributes.map((a) => ({ AttributeName: a, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: spec.hashKey, KeyType: 'HASH' },
        ...(spec.rangeKey ? [{ AttributeName: spec.rangeKey, KeyType: 'RANGE' }] : []),
      ],
      GlobalSecondaryIndexes: spec.globalSecondaryIndexes?.map((g) => ({
        IndexName: g.name,
        KeySchema: [
          { AttributeName: g.hashKey, KeyType: 'HASH' },
          ...(g.rangeKey ? [{ AttributeName: g.rangeKey, KeyType: 'RANGE' }] : []),
        ],
        Projection: { ProjectionType: g.projectionType },
      })),
    })
    t.same(infra, shape(app[key]), key)
    t.equal(app[key].BillingMode, 'PAY_PER_REQUEST', `${key}: on-demand on both sides`)
  }
  t.equal(TTL_ATTRIBUTE, APP_TTL)
  t.equal(TABLE_SPECS.keys.globalSecondaryIndexes?.[0]?.name, KEYS_BY_OWNER_INDEX)
  t.same(
    TABLE_KEYS.filter((k) => TABLE_SPECS[k].ttlAttribute),
    ['rateLimits', 'responses', 'oauth'],
    'rate limits, stored responses and OAuth state expire',
  )
})

t.test(
  'responses table (ahead of the app): pk/sk strings, TTL on expiresAt, env var PENNYWORTH_RESPONSES_TABLE',
  async (t) => {
    t.same(TABLE_SPECS.responses, {
      suffix: 'responses',
      hashKey: 'pk',
      rangeKey: 'sk',
      attributes: ['pk', 'sk'],
      ttlAttribute: 'expiresAt',
    })
    t.equal(TABLE_ENV_VARS.responses, 'PENNYWORTH_RESPONSES_TABLE')
  },
)

t.test('oauth table: pk/sk strings, TTL on expiresAt, env var PENNYWORTH_OAUTH_TABLE', async (t) => {
  t.same(TABLE_SPECS.oauth, {
    suffix: 'oauth',
    hashKey: 'pk',
    rangeKey: 'sk',
    attributes: ['pk', 'sk'],
    ttlAttribute: 'expiresAt',
  })
  t.equal(TABLE_ENV_VARS.oauth, 'PENNYWORTH_OAUTH_TABLE')
})

t.test('env var names are the ones app/config.ts reads', async (t) => {
  const { loadConfig } = await import('../../app/config.js')
  const app = tableDefinitions(defaultTableNames) as Record<string, unknown>
  for (const key of TABLE_KEYS.filter((k) => k in app)) {
    const config = loadConfig({ [TABLE_ENV_VARS[key]]: `t-${key}` })
    t.equal(config.tables[key as keyof typeof config.tables], `t-${key}`, TABLE_ENV_VARS[key])
  }
})

t.test('physical names keep the app default suffixes', async (t) => {
  const names = defaultTableNames as unknown as Record<string, string>
  for (const key of TABLE_KEYS.filter((k) => k in names))
    t.equal(`pennyworth-${TABLE_SPECS[key].suffix}`, names[key], key)
})

t.test('Data alone: six protected tables, GSI by key schema, outputs', async (t) => {
  const data = new Data('d', { namePrefix: 'px-dev', protect: false })
  t.same(await valueOf(data.tableNames.rateLimits), 'px-dev-rate-limits')
  t.match(await valueOf(data.tableArns.keys), /:table\/px-dev-keys$/)
  await mocks.settle()
  const tables = mocks.ofType('aws:dynamodb/table:Table')
  t.equal(tables.length, 6)
  const keys = tables.find((x) => x.inputs.name === 'px-dev-keys')!
  t.equal(keys.inputs.hashKey, 'id')
  t.notOk(keys.inputs.rangeKey)
  t.same(keys.inputs.globalSecondaryIndexes, [
    {
      name: 'byOwner',
      keySchemas: [
        { attributeName: 'owner', keyType: 'HASH' },
        { attributeName: 'createdAt', keyType: 'RANGE' },
      ],
      projectionType: 'ALL',
    },
  ])
  for (const x of tables) {
    t.same(x.inputs.pointInTimeRecovery, { enabled: true })
    t.equal(x.inputs.deletionProtectionEnabled, true, 'DynamoDB deletion protection even when Pulumi protect is off')
  }
})

t.test('Pulumi protect is on by default', async (t) => {
  const data = new Data('prot', { namePrefix: 'px-prod' })
  for (const table of Object.values(data.tables)) t.equal((table as unknown as { __protect?: boolean }).__protect, true)
})
