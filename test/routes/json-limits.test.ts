/**
 * Regression (issue 14 item 3): 10,000 levels of nesting in a tool's parameters or an output
 * schema gave 500 internal_error (RangeError in JSON.stringify) with an error-level stack.
 * Every front door now refuses a body nested past 64 levels (or with too many objects and
 * arrays) with a 400 naming the field, in its own error shape.
 */
import t from 'tap'
import { checkJsonLimits, DEFAULT_JSON_LIMITS } from '../../app/lib/json-limits.js'
import { describeJsonLimitViolation } from '../../app/lib/json-limits-report.js'
import { startGateway } from '../helpers/app.js'

const gw = await startGateway(t)
const auth = { authorization: `Bearer ${gw.key}` }

/** `levels` objects nested in each other: `{"a":{"a":…1…}}`. */
function nested(levels: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < levels; i++) v = { a: v }
  return v
}
/** Placeholder in a body for a deeply nested value, written as text (JSON.stringify would overflow on it). */
const DEEP = '__deep__'
const deepText = (levels: number, open = '{"a":', close = '}') => `${open.repeat(levels)}1${close.repeat(levels)}`
/** The body as JSON text with DEEP replaced by `levels` nested objects. */
const withDeep = (body: object, levels: number, open?: string, close?: string) =>
  JSON.stringify(body).replace(`"${DEEP}"`, deepText(levels, open, close))
const json = { 'content-type': 'application/json' }
const userTurn = [{ role: 'user', content: 'hi' }]

t.test('OpenAI chat: deep tool parameters and json_schema → 400 naming the field', async (t) => {
  const tools = await gw.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { ...auth, ...json },
    payload: withDeep(
      {
        model: 'mock',
        messages: userTurn,
        tools: [{ type: 'function', function: { name: 'f', parameters: DEEP } }],
      },
      10_000,
    ),
  })
  t.equal(tools.statusCode, 400, tools.body)
  const err = tools.json().error
  t.equal(err.type, 'invalid_request_error')
  t.equal(err.param, 'tools[0].function.parameters')
  t.equal(err.code, 'json_limit_exceeded')
  t.match(err.message, /'tools\[0\]\.function\.parameters'.*nested more than 64 levels/)

  const schema = await gw.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { ...auth, ...json },
    payload: withDeep(
      {
        model: 'mock',
        messages: userTurn,
        response_format: { type: 'json_schema', json_schema: { name: 's', schema: DEEP } },
      },
      10_000,
    ),
  })
  t.equal(schema.statusCode, 400, schema.body)
  t.equal(schema.json().error.param, 'response_format.json_schema.schema.a')
})

t.test('the limit is 64 levels: a body exactly at it is served', async (t) => {
  // body (1) → tools (2) → [0] (3) → function (4) → parameters (5) and 59 objects inside it = 64.
  const ok = await gw.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: auth,
    payload: {
      model: 'mock',
      messages: userTurn,
      tools: [{ type: 'function', function: { name: 'f', parameters: nested(60) } }],
    },
  })
  t.equal(ok.statusCode, 200, ok.body)
  const over = await gw.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: auth,
    payload: {
      model: 'mock',
      messages: userTurn,
      tools: [{ type: 'function', function: { name: 'f', parameters: nested(61) } }],
    },
  })
  t.equal(over.statusCode, 400)
})

t.test('embeddings: deep input → 400 in OpenAI shape', async (t) => {
  const res = await gw.app.inject({
    method: 'POST',
    url: '/v1/embeddings',
    headers: { ...auth, ...json },
    payload: withDeep({ model: 'pennyworth-mock-embed', input: DEEP }, 5_000, '[', ']'),
  })
  t.equal(res.statusCode, 400, res.body)
  t.equal(res.json().error.param, 'input[0][0][0]')
})

t.test('Anthropic Messages and count_tokens: 400 in Anthropic shape', async (t) => {
  for (const url of ['/v1/messages', '/v1/messages/count_tokens']) {
    const res = await gw.app.inject({
      method: 'POST',
      url,
      headers: { 'x-api-key': gw.key, 'anthropic-version': '2023-06-01', ...json },
      payload: withDeep(
        {
          model: 'mock',
          max_tokens: 10,
          messages: userTurn,
          tools: [{ name: 'f', input_schema: DEEP }],
        },
        10_000,
      ),
    })
    t.equal(res.statusCode, 400, `${url}: ${res.body}`)
    const body = res.json()
    t.equal(body.type, 'error')
    t.equal(body.error.type, 'invalid_request_error')
    t.match(body.error.message, /'tools\[0\]\.input_schema\.a'.*64 levels/)
  }
})

t.test('MCP chat tool: a JSON-RPC error, 400', async (t) => {
  const res = await gw.app.inject({
    method: 'POST',
    url: '/v1/mcp',
    headers: { ...auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    payload: withDeep(
      {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: {
          name: 'chat',
          arguments: {
            model: 'mock',
            prompt: 'hi',
            response_format: { type: 'json_schema', json_schema: { name: 's', schema: DEEP } },
          },
        },
      },
      10_000,
    ),
  })
  t.equal(res.statusCode, 400, res.body)
  const body = res.json()
  t.equal(body.jsonrpc, '2.0')
  t.equal(body.id, 7)
  t.equal(body.error.code, -32600)
  t.match(body.error.message, /'params\.arguments\.response_format\.json_schema'.*64 levels/)
})

t.test('too many objects and arrays: 400 without a param', async (t) => {
  const res = await gw.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: auth,
    payload: {
      model: 'mock',
      messages: userTurn,
      tools: [
        {
          type: 'function',
          function: { name: 'f', parameters: { many: Array.from({ length: 100_001 }, () => ({})) } },
        },
      ],
    },
  })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error.param, null)
  t.match(res.json().error.message, /more than 100000 objects and arrays/)
})

t.test('checkJsonLimits: scalars and shallow values pass; no recursion at any depth', async (t) => {
  t.equal(checkJsonLimits('x'), undefined)
  t.equal(checkJsonLimits(null), undefined)
  t.equal(checkJsonLimits({ a: [1, { b: 2 }] }), undefined)
  t.ok(checkJsonLimits(nested(200_000)), 'no stack overflow while checking')
  t.equal(checkJsonLimits(nested(3), { ...DEFAULT_JSON_LIMITS, maxDepth: 3 }), undefined)
  const limits = { ...DEFAULT_JSON_LIMITS, maxDepth: 3 }
  t.equal(checkJsonLimits(nested(4), limits), 'depth')
  t.same(describeJsonLimitViolation(nested(4), 'depth', limits).param, 'a.a.a')
})

t.test('the server is healthy afterwards', async (t) => {
  const res = await gw.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: auth,
    payload: { model: 'mock', messages: userTurn },
  })
  t.equal(res.statusCode, 200)
})
