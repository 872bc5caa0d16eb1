/**
 * Route schemas are compiled on first use (app/plugins/lazy-validation.ts); `eagerSchemas`
 * compiles them all at ready(), as Fastify does by default, so a broken schema of any route
 * fails here rather than at its first request in production.
 */
import t, { type Test } from 'tap'
import { buildApp } from '../../app/app.js'
import { createBedrockClient, createDocumentClient } from '../../app/clients.js'
import { loadConfig } from '../../app/config.js'
import { lazySchemaCompilers, loadSchemaModules, schemaModulesLoaded } from '../../app/plugins/lazy-validation.js'
import { loadCatalog } from '../../app/services/catalog.js'
import { TEST_CREDENTIALS } from '../helpers/app.js'

async function app(t: Test, eagerSchemas: boolean) {
  const config = loadConfig(
    {
      PENNYWORTH_LOG_LEVEL: 'silent',
      PENNYWORTH_COGNITO_USER_POOL_ID: 'us-west-2_Example',
      PENNYWORTH_COGNITO_CLIENT_ID: 'exampleclientid',
    },
    { mockModels: true, lambdaStreaming: false },
  )
  const dynamo = createDocumentClient({
    region: 'us-west-2',
    endpoint: 'http://127.0.0.1:9',
    credentials: TEST_CREDENTIALS,
  })
  const bedrock = createBedrockClient({
    region: 'us-west-2',
    endpoint: 'http://127.0.0.1:9',
    credentials: TEST_CREDENTIALS,
  })
  t.teardown(() => {
    dynamo.destroy()
    bedrock.destroy()
  })
  const built = await buildApp({
    config,
    catalog: loadCatalog(),
    clients: { dynamo, bedrock },
    logger: false,
    eagerSchemas,
  })
  t.teardown(() => built.close())
  return built
}

t.test('ajv and fast-json-stringify load with the first request to a route with a schema', async (t) => {
  const schema = { type: 'object', properties: { a: { type: 'integer' } } }
  // First in this file: nothing has loaded them in this process yet.
  t.notOk(schemaModulesLoaded(), 'importing the app does not load ajv or fast-json-stringify')
  const early = lazySchemaCompilers()
  const validate = early.buildValidator({}, {})({ schema, method: 'POST', url: '/x', httpPart: 'body' } as never) as (
    data: unknown,
  ) => boolean
  t.throws(() => validate({ a: 1 }), /compiled before loadSchemaModules\(\) finished/, 'a clear error before')
  t.throws(() => lazySchemaCompilers({ eager: true }).buildValidator({}, {})({ schema } as never), /loadSchemaModules/)

  const lazy = await app(t, false)
  await lazy.ready()
  t.notOk(schemaModulesLoaded(), 'not by ready()')
  t.equal((await lazy.inject({ method: 'GET', url: '/health' })).statusCode, 200)
  t.notOk(schemaModulesLoaded(), 'not by a request to a route without a schema')
  const res = await lazy.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'x' } })
  t.equal(res.statusCode, 401, 'refused by auth, after the hook that loads them')
  t.ok(schemaModulesLoaded(), 'loaded by the first request to a route with a schema')
  t.equal(validate({ a: 1 }), true, 'the validator made before works once they are loaded')
  t.equal(validate({ a: 'x' }), false)
})

t.test('every route schema compiles (requests with ajv, responses with fast-json-stringify)', async (t) => {
  const eager = await app(t, true)
  await eager.ready() // throws FST_ERR_SCH_*_BUILD for a schema that does not compile
  t.ok(eager.routeTable.length > 20, `${eager.routeTable.length} routes`)
})

t.test('lazy: compiled by the first call; eager: at registration', async (t) => {
  await loadSchemaModules()
  const broken = {
    schema: { type: 'object', properties: { a: { type: 'no-such-type' } } },
    method: 'GET',
    url: '/x',
    httpPart: 'body',
    httpStatus: '200',
  }
  const lazy = lazySchemaCompilers()
  const validate = lazy.buildValidator({}, {})(broken as never) as (data: unknown) => boolean
  t.throws(() => validate({ a: 1 }), /schema is invalid/, 'the validator compiles when first used')
  const serialize = lazy.buildSerializer({}, {})(broken as never)
  t.throws(() => serialize({ a: 1 }), 'the serializer compiles when first used')
  const eager = lazySchemaCompilers({ eager: true })
  t.throws(() => eager.buildValidator({}, {})(broken as never), /schema is invalid/)
  t.throws(() => eager.buildSerializer({}, {})(broken as never))
})

t.test("one ajv for the app; validators and serializers behave as Fastify's", async (t) => {
  await loadSchemaModules()
  const compilers = lazySchemaCompilers()
  const schema = {
    type: 'object',
    required: ['n'],
    properties: { n: { type: 'integer', default: 1 }, tag: { type: 'string', default: 'x' } },
  }
  const validate = compilers.buildValidator(
    {},
    {},
  )({ schema, method: 'POST', url: '/x', httpPart: 'body' } as never) as ((data: unknown) => boolean) & {
    errors?: unknown[]
  }
  const data: Record<string, unknown> = { n: 2 }
  t.equal(validate(data), true)
  t.same(data, { n: 2, tag: 'x' }, 'defaults applied (useDefaults)')
  t.equal(validate({ n: '2' }), false, 'no type coercion')
  t.match(validate.errors, [{ keyword: 'type', instancePath: '/n' }])
  t.equal(validate({ n: 3 }), true)
  t.equal(validate.errors, null, 'errors reset on success')
  const serialize = compilers.buildSerializer({}, {})({ schema, method: 'GET', url: '/x', httpStatus: '200' } as never)
  t.equal(
    serialize({ n: 1, tag: 'a', secret: 'dropped' }),
    '{"n":1,"tag":"a"}',
    'properties outside the schema are not sent',
  )
})
