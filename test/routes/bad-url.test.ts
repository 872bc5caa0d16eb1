/**
 * Regression (issue 14 item 4): an invalid percent-encoding in the URL (`GET /v1/models/%ff%fe`)
 * answered Fastify's own error shape (`FST_ERR_BAD_URL`); it is a 400 in the documented shape,
 * Anthropic's on the Anthropic routes, and the URL (which may carry a key) is not echoed.
 */
import t from 'tap'
import { isAnthropicError, isOpenAIError } from '../helpers/fuzz-doors.js'
import { startGateway } from '../helpers/app.js'

const gw = await startGateway(t)

t.test('GET /v1/models/%ff%fe → 400 in OpenAI shape', async (t) => {
  const res = await gw.app.inject({
    method: 'GET',
    url: '/v1/models/%ff%fe',
    headers: { authorization: `Bearer ${gw.key}` },
  })
  t.equal(res.statusCode, 400, res.body)
  const body = res.json()
  t.ok(isOpenAIError(body), res.body)
  t.equal(body.error.code, 'invalid_url')
  t.equal(body.error.type, 'invalid_request_error')
})

t.test('without a key too, and the URL is not echoed', async (t) => {
  const res = await gw.app.inject({ method: 'GET', url: `/v1/models/%ff${gw.key}` })
  t.equal(res.statusCode, 400)
  t.ok(isOpenAIError(res.json()))
  t.notMatch(res.body, gw.key)
})

t.test('on the Anthropic routes (or with anthropic-version) → Anthropic shape', async (t) => {
  const messages = await gw.app.inject({ method: 'POST', url: '/v1/messages%ff?beta=true', payload: {} })
  t.equal(messages.statusCode, 400, messages.body)
  t.ok(isAnthropicError(messages.json()), messages.body)
  const models = await gw.app.inject({
    method: 'GET',
    url: '/v1/models/%e0%a4%a',
    headers: { 'anthropic-version': '2023-06-01' },
  })
  t.equal(models.statusCode, 400)
  t.ok(isAnthropicError(models.json()), models.body)
})
