/**
 * /v1/mcp with people's Cognito access tokens (real RS256 JWTs from cognito-local): what an MCP
 * client sends after the OAuth flow. A person's calls run as their sign-in key (created on first
 * use, owned by their Cognito sub), so scope, limits, metering and revocation work as for keys.
 */
import t from 'tap'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { SIGN_IN_KEY_NAME, signInKeyId } from '../../app/services/sign-in-keys.js'
import { startGateway } from '../helpers/app.js'
import { startCognito } from '../helpers/cognito.js'
import { connect, initializeRequest, mcpHeaders, raw } from '../helpers/mcp.js'

const cognito = await startCognito(t)
// No key cache: a revocation applies at once here.
const gw = await startGateway(t, { cognito, env: { PENNYWORTH_KEY_CACHE_TTL_MS: '0' } })
const { user, other, nobody } = cognito.users
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('')

t.test('the protected resource metadata names the user pool', async (t) => {
  const res = await raw(gw.url, 'GET', '/.well-known/oauth-protected-resource/v1/mcp', { host: new URL(gw.url).host })
  t.same(res.json().authorization_servers, [cognito.issuer])
  t.equal(res.json().resource, `${gw.url}/v1/mcp`)
})

t.test('a signed-in person calls tools, metered against their own sign-in key', async (t) => {
  const client = await connect(t, gw.url, bearer(user.tokens.accessToken))
  const before = gw.usage.events.length
  const res = (await client.callTool({
    name: 'chat',
    arguments: { model: 'pennyworth-mock', prompt: 'as a person' },
  })) as CallToolResult
  t.equal(text(res), 'You said: as a person')
  const keyId = signInKeyId(user.sub)
  t.equal(gw.usage.events.length, before + 1)
  t.match(gw.usage.events.at(-1), { keyId, owner: user.sub, modelId: 'pennyworth-mock' })

  const keys = await gw.app.keys.list(user.sub)
  t.same(
    keys.map((k) => [k.id, k.name, k.status]),
    [[keyId, SIGN_IN_KEY_NAME, 'active']],
    'one sign-in key, owned by the person',
  )

  // A second client (another instance would do the same): the same key, not a new one.
  const again = await connect(t, gw.url, bearer(user.tokens.accessToken))
  await again.callTool({ name: 'chat', arguments: { model: 'pennyworth-mock', prompt: 'again' } })
  t.equal((await gw.app.keys.list(user.sub)).length, 1)
  t.equal(gw.usage.events.at(-1)!.keyId, keyId)

  await gw.app.flushBackground()
  const usage = ((await client.callTool({ name: 'usage', arguments: {} })) as CallToolResult).structuredContent as {
    key_id: string
    totals: { requests: number }
  }
  t.equal(usage.key_id, keyId)
  t.equal(usage.totals.requests, 2, 'the usage tool reports the sign-in key')

  const otherClient = await connect(t, gw.url, bearer(other.tokens.accessToken))
  await otherClient.callTool({ name: 'chat', arguments: { model: 'pennyworth-mock', prompt: 'me too' } })
  t.match(gw.usage.events.at(-1), { keyId: signInKeyId(other.sub), owner: other.sub }, 'each person their own key')
})

t.test('an administrator limits or revokes the sign-in key like any key', async (t) => {
  const keyId = signInKeyId(user.sub)
  const record = (await gw.app.keys.get(keyId))!
  await gw.app.keys.update(record, { models: ['pennyworth-mock'] })
  const client = await connect(t, gw.url, bearer(user.tokens.accessToken))
  const denied = (await client.callTool({
    name: 'chat',
    arguments: { model: 'claude-haiku-4-5', prompt: 'x' },
  })) as CallToolResult
  t.equal(denied.isError, true)
  t.match(text(denied), /may not use the model/)

  await gw.app.keys.revoke(keyId)
  const res = await raw(
    gw.url,
    'POST',
    '/v1/mcp',
    mcpHeaders(gw.url, bearer(user.tokens.accessToken)),
    initializeRequest(),
  )
  t.equal(res.status, 403)
  t.match(res.json().error, { code: 'revoked_api_key', message: /sign-in key has been revoked/ })
})

t.test('tokens that are not accepted', async (t) => {
  const noGroup = await raw(
    gw.url,
    'POST',
    '/v1/mcp',
    mcpHeaders(gw.url, bearer(nobody.tokens.accessToken)),
    initializeRequest(),
  )
  t.equal(noGroup.status, 403, 'a person in no pennyworth group')
  t.equal(noGroup.json().error.code, 'group_required')

  const idToken = await raw(
    gw.url,
    'POST',
    '/v1/mcp',
    mcpHeaders(gw.url, bearer(other.tokens.idToken)),
    initializeRequest(),
  )
  t.equal(idToken.status, 401, 'an ID token')
  t.match(
    idToken.headers['www-authenticate'],
    /^Bearer resource_metadata=".*\/\.well-known\/oauth-protected-resource\/v1\/mcp", error="invalid_token"$/,
  )

  const forged = other.tokens.accessToken.replace(/\.[^.]+$/, '.AAAA')
  const bad = await raw(gw.url, 'POST', '/v1/mcp', mcpHeaders(gw.url, bearer(forged)), initializeRequest())
  t.equal(bad.status, 401, 'a bad signature')

  const key = await connect(t, gw.url, bearer(gw.key))
  t.same(await key.ping(), {}, 'API keys still work on the same endpoint')
})
