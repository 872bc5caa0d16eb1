/**
 * One validation wording for HTTP and MCP (lib/validation.ts): the same ajv options and the same
 * messages, differing only in the noun (parameter / argument) and the name of the whole input.
 */
import t from 'tap'
import { Ajv } from 'ajv'
import { Type } from 'typebox'
import { AJV_OPTIONS, requestAjv, toParam, validationError } from '../../app/lib/validation.js'
import { UsageQuerystring } from '../../app/schemas/usage.js'

const HTTP = { noun: 'parameter', whole: 'querystring' } as const
const MCP = { noun: 'argument', whole: 'arguments' } as const

function failure(schema: object, data: unknown, wording: typeof HTTP | typeof MCP) {
  const validate = requestAjv(Ajv).compile(schema)
  if (validate(data)) throw new Error(`${JSON.stringify(data)} passed`)
  const e = validationError(validate.errors, wording)
  return { message: e.message, param: e.param, status: e.status, code: e.code, type: e.type }
}

t.test('the options: no coercion, defaults filled in, one error, discriminated unions', async (t) => {
  t.match(AJV_OPTIONS, { coerceTypes: false, useDefaults: true, allErrors: false, discriminator: true })
  const args: Record<string, unknown> = {}
  t.ok(requestAjv(Ajv).compile(UsageQuerystring)(args))
  t.same(args, { granularity: 'day' }, 'defaults, for HTTP and MCP alike')
  t.notOk(requestAjv(Ajv).compile(Type.Object({ n: Type.Number() }))({ n: '0.5' }), '"0.5" is not a number')
})

t.test('the messages, in both wordings', async (t) => {
  const usage = (data: unknown, w: typeof HTTP | typeof MCP) => failure(UsageQuerystring, data, w)
  t.same(usage({ granularity: 'week' }, HTTP), {
    message: `Invalid value for 'granularity': expected one of "day", "month".`,
    param: 'granularity',
    status: 400,
    code: 'invalid_value',
    type: 'invalid_request_error',
  })
  t.equal(
    usage({ granularity: 'week' }, MCP).message,
    `Invalid value for 'granularity': expected one of "day", "month".`,
  )
  t.equal(usage({ hours: 3 }, HTTP).message, `Invalid value for 'querystring': unknown property 'hours'.`)
  t.equal(usage({ hours: 3 }, MCP).message, `Invalid value for 'arguments': unknown property 'hours'.`)
  t.match(usage({ from: 'x' }, MCP), { message: /^Invalid value for 'from': must match pattern/, param: 'from' })

  const chat = Type.Object({
    model: Type.String(),
    messages: Type.Array(Type.Object({ role: Type.Union([Type.Literal('user'), Type.Literal('system')]) })),
    detail: Type.Optional(Type.Enum({ low: 'low', high: 'high' })),
  })
  t.same(failure(chat, { messages: [] }, HTTP), {
    message: `Missing required parameter: 'model'.`,
    param: 'model',
    status: 400,
    code: 'invalid_value',
    type: 'invalid_request_error',
  })
  t.equal(failure(chat, { messages: [] }, MCP).message, `Missing required argument: 'model'.`)
  t.match(failure(chat, { model: 'm', messages: [{ role: 'x' }] }, HTTP), {
    message: `Invalid value for 'messages[0].role': expected one of "user", "system".`,
    param: 'messages[0].role',
  })
  t.match(failure(chat, { model: 'm', messages: [], detail: 'mid' }, MCP), {
    message: `Invalid value for 'detail': expected one of "low", "high".`,
  })
  t.match(validationError([], MCP), { message: 'Invalid arguments.', param: null }, 'no issue reported')
})

t.test('toParam: JSON pointer to OpenAI param notation', async (t) => {
  t.equal(toParam('/messages/0/content'), 'messages[0].content')
  t.equal(toParam('/messages/2', 'role'), 'messages[2].role')
  t.equal(toParam(''), null)
})
