/**
 * The MCP OAuth facade with local sign-in: the official MCP SDK client's OAuth flow (dynamic
 * registration, PKCE, state, loopback redirect) completes against the gateway and then uses the
 * tools; the negative cases drive the endpoints with plain HTTP. Each grant is a key record owned
 * by the local admin, bound to /v1/mcp.
 */
import t from 'tap'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { startGateway } from '../helpers/app.js'
import { initializeRequest, mcpHeaders, raw } from '../helpers/mcp.js'
import {
  MemoryOAuthProvider,
  answerConsent,
  consentInBrowser,
  formFields,
  openAuthorization,
  pkce,
  register,
  startCallbackListener,
  token,
} from '../helpers/oauth.js'

// The facade's clock can be moved (expired codes); everything else runs on the real one.
let offsetMs = 0
const gw = await startGateway(t, {
  env: { PENNYWORTH_OAUTH_LOCAL_SIGNIN: 'true', PENNYWORTH_KEY_CACHE_TTL_MS: '0' },
  oauth: { now: () => Date.now() + offsetMs },
})
const base = gw.url
const callback = await startCallbackListener(t)
const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('')

/** An MCP request with this bearer token: its HTTP status. */
async function mcpStatus(accessToken: string): Promise<number> {
  const res = await raw(base, 'POST', '/v1/mcp', mcpHeaders(base, { authorization: `Bearer ${accessToken}` }), {
    ...initializeRequest(),
  })
  return res.status
}

/** Registers a client with the listener's redirect URI and gets one code through the consent page. */
async function codeFor(opts: { redirectUri?: string; clientName?: string } = {}) {
  const redirectUri = opts.redirectUri ?? callback.url
  const { body: client } = await register(base, { client_name: opts.clientName ?? 'raw', redirect_uris: [redirectUri] })
  const { verifier, challenge } = pkce()
  const url = new URL(`${base}/oauth/authorize`)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st-1',
    resource: `${base}/v1/mcp`,
  }).toString()
  const params = await consentInBrowser(base, url)
  return { clientId: client.client_id as string, redirectUri, verifier, code: params.get('code')!, params }
}

const exchange = (c: { clientId: string; redirectUri: string; verifier: string; code: string }) =>
  token(base, {
    grant_type: 'authorization_code',
    code: c.code,
    code_verifier: c.verifier,
    redirect_uri: c.redirectUri,
    client_id: c.clientId,
    resource: `${base}/v1/mcp`,
  })

t.test('discovery: the protected resource names the gateway; RFC 8414 metadata', async (t) => {
  const host = { host: new URL(base).host }
  const prm = (await raw(base, 'GET', '/.well-known/oauth-protected-resource/v1/mcp', host)).json()
  t.same(prm.authorization_servers, [base])
  t.equal(prm.resource, `${base}/v1/mcp`)
  const as = (await raw(base, 'GET', '/.well-known/oauth-authorization-server', host)).json()
  t.match(as, {
    issuer: base,
    authorization_endpoint: `${base}/oauth/authorize`,
    token_endpoint: `${base}/oauth/token`,
    registration_endpoint: `${base}/oauth/register`,
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
  })
  const unauth = await raw(base, 'POST', '/v1/mcp', mcpHeaders(base), initializeRequest())
  t.equal(unauth.status, 401)
  t.match(unauth.headers['www-authenticate'], /resource_metadata="[^"]+\/v1\/mcp"/)
})

t.test('the MCP SDK client signs in with OAuth, then lists and calls tools', async (t) => {
  const provider = new MemoryOAuthProvider(callback.url, 'SDK test client')
  const first = new StreamableHTTPClientTransport(new URL(`${base}/v1/mcp`), { authProvider: provider })
  // The SDK's UnauthorizedError: "sign in first" (the class may come from the SDK's other build).
  await t.rejects(new Client({ name: 'oauth-test', version: '1' }).connect(first), { message: 'Unauthorized' })
  t.ok(provider.client?.client_id, 'registered dynamically')
  t.ok(provider.authorizationUrl, 'asked to open the authorization URL')
  t.equal(provider.authorizationUrl!.searchParams.get('code_challenge_method'), 'S256')

  const params = await consentInBrowser(base, provider.authorizationUrl!)
  t.equal(params.get('state'), provider.lastState, 'state comes back unchanged')
  t.equal(params.get('iss'), base, 'RFC 9207 issuer')
  t.equal(callback.hits.at(-1)!.params.get('code'), params.get('code'), 'the loopback listener got the code')
  await first.finishAuth(params.get('code')!)
  t.match(provider.saved, { token_type: 'Bearer', expires_in: 3600 })
  t.match(provider.saved!.access_token, /^pw-[a-z2-9]{12}-/)
  t.match(provider.saved!.refresh_token, /^pwr-[a-z2-9]{12}-/)

  const client = new Client({ name: 'oauth-test', version: '1' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/v1/mcp`), { authProvider: provider }))
  t.teardown(() => client.close())
  const { tools } = await client.listTools()
  t.ok(tools.some((x) => x.name === 'chat'))
  const res = (await client.callTool({
    name: 'chat',
    arguments: { model: 'pennyworth-mock', prompt: 'signed in' },
  })) as CallToolResult
  t.equal(text(res), 'You said: signed in')

  const keyId = provider.saved!.access_token.split('-')[1]
  const grant = (await gw.app.keys.get(keyId))!
  t.match(grant, { owner: 'local', name: 'MCP: SDK test client', status: 'active', audience: 'mcp' })
  t.notOk(JSON.stringify(grant).includes(provider.saved!.refresh_token!.split('-')[2]), 'refresh token not stored')
  t.match(gw.usage.events.at(-1), { keyId, owner: 'local', modelId: 'pennyworth-mock' }, 'metered on the grant')

  // The access token is for the MCP endpoint only (RFC 8707 audience).
  const chat = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${provider.saved!.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'pennyworth-mock', messages: [{ role: 'user', content: 'x' }] }),
  })
  t.equal(chat.status, 401)
  t.match(await chat.json(), { error: { code: 'invalid_token', message: /only accepted by the MCP endpoint/ } })
})

t.test('a wrong PKCE verifier is refused, and the code is spent', async (t) => {
  const c = await codeFor()
  const wrong = await exchange({ ...c, verifier: pkce().verifier })
  t.equal(wrong.status, 400)
  t.match(wrong.body, { error: 'invalid_grant', error_description: /code_verifier/ })
  t.match((await exchange(c)).body, { error: 'invalid_grant' }, 'not redeemable after a failed try')
})

t.test('a reused code is refused and revokes what it gave', async (t) => {
  const c = await codeFor()
  const ok = await exchange(c)
  t.equal(ok.status, 200)
  t.equal(await mcpStatus(ok.body.access_token), 200)
  const again = await exchange(c)
  t.equal(again.status, 400)
  t.match(again.body, { error: 'invalid_grant' })
  t.equal(await mcpStatus(ok.body.access_token), 401, 'the first redemption is revoked')
  t.match(
    await token(base, { grant_type: 'refresh_token', refresh_token: ok.body.refresh_token, client_id: c.clientId }),
    {
      status: 400,
      body: { error: 'invalid_grant' },
    },
  )
})

t.test('redirect URIs: loopback (any port) or exactly registered; never an unregistered one', async (t) => {
  const bad = await register(base, { client_name: 'x', redirect_uris: ['http://evil.example/cb'] })
  t.equal(bad.status, 400)
  t.equal(bad.body.error, 'invalid_redirect_uri')
  for (const uri of ['javascript:alert(1)', 'https://ok.example/cb#frag', 'file:///etc/passwd', 'data:text/html,x'])
    t.equal((await register(base, { redirect_uris: [uri] })).status, 400, uri)

  const { body: client } = await register(base, {
    client_name: 'web',
    redirect_uris: ['https://app.example/cb', 'http://127.0.0.1/callback'],
  })
  const { challenge } = pkce()
  const authorize = (redirectUri: string) => {
    const u = new URL(`${base}/oauth/authorize`)
    u.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 's',
    }).toString()
    return openAuthorization(u)
  }
  for (const uri of ['https://evil.example/cb', 'https://app.example/cb2', 'http://127.0.0.1:9/other']) {
    const res = await authorize(uri)
    t.equal(res.status, 400, uri)
    t.equal(res.location, null, `${uri}: never redirected to`)
    t.match(res.text, /not one this client registered/)
  }
  t.equal((await authorize('https://app.example/cb')).status, 200, 'the registered URI exactly')
  t.equal((await authorize('http://127.0.0.1:51234/callback')).status, 200, 'loopback, any port (RFC 8252)')
})

t.test('state and PKCE S256 are required; errors go back to the redirect URI', async (t) => {
  const { body: client } = await register(base, { redirect_uris: [callback.url] })
  const { challenge } = pkce()
  const good = {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: callback.url,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'abc',
  }
  const cases: Array<[string, Record<string, string | undefined>, string]> = [
    ['missing state', { state: undefined }, 'invalid_request'],
    ['plain PKCE', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['no PKCE', { code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
    ['token response type', { response_type: 'token' }, 'unsupported_response_type'],
    ['another resource', { resource: 'https://elsewhere.example/mcp' }, 'invalid_target'],
  ]
  for (const [name, change, error] of cases) {
    const params = Object.fromEntries(
      Object.entries({ ...good, ...change }).filter((e): e is [string, string] => e[1] !== undefined),
    )
    const res = await openAuthorization(`${base}/oauth/authorize?${new URLSearchParams(params)}`)
    t.equal(res.status, 302, name)
    const to = new URL(res.location!)
    t.equal(`${to.origin}${to.pathname}`, callback.url, `${name}: back to the client`)
    t.equal(to.searchParams.get('error'), error, name)
    t.notOk(to.searchParams.get('code'), `${name}: no code`)
  }
})

t.test('an expired code is refused', async (t) => {
  const c = await codeFor()
  offsetMs = 61_000
  t.teardown(() => {
    offsetMs = 0
  })
  const res = await exchange(c)
  t.equal(res.status, 400)
  t.equal(res.body.error, 'invalid_grant')
})

t.test('refresh rotates both tokens; a rotated-out refresh token revokes the grant', async (t) => {
  const c = await codeFor()
  const first = (await exchange(c)).body
  const refreshed = await token(base, {
    grant_type: 'refresh_token',
    refresh_token: first.refresh_token,
    client_id: c.clientId,
  })
  t.equal(refreshed.status, 200)
  t.not(refreshed.body.access_token, first.access_token)
  t.not(refreshed.body.refresh_token, first.refresh_token)
  t.equal(await mcpStatus(first.access_token), 401, 'the old access token ends')
  t.equal(await mcpStatus(refreshed.body.access_token), 200)

  const otherClient = await token(base, {
    grant_type: 'refresh_token',
    refresh_token: refreshed.body.refresh_token,
    client_id: 'mcp_someone_else',
  })
  t.equal(otherClient.body.error, 'invalid_grant', 'bound to its client')

  // The old refresh token again: a copy exists somewhere; the whole grant ends.
  const replay = await token(base, {
    grant_type: 'refresh_token',
    refresh_token: first.refresh_token,
    client_id: c.clientId,
  })
  t.equal(replay.body.error, 'invalid_grant')
  t.equal(await mcpStatus(refreshed.body.access_token), 401, 'revoked on reuse')
  const after = await token(base, {
    grant_type: 'refresh_token',
    refresh_token: refreshed.body.refresh_token,
    client_id: c.clientId,
  })
  t.equal(after.body.error, 'invalid_grant')
})

t.test('an access token past its lifetime is refused; refreshing gives a working one', async (t) => {
  offsetMs = -2 * 3_600_000 // issued two hours ago (the key check uses the real clock)
  const c = await codeFor()
  const old = (await exchange(c)).body
  offsetMs = 0
  t.equal(await mcpStatus(old.access_token), 401)
  const fresh = await token(base, {
    grant_type: 'refresh_token',
    refresh_token: old.refresh_token,
    client_id: c.clientId,
  })
  t.equal(await mcpStatus(fresh.body.access_token), 200)
})

t.test('a revoked grant ends its access and refresh tokens', async (t) => {
  const c = await codeFor()
  const tokens = (await exchange(c)).body
  await gw.app.keys.revoke(tokens.access_token.split('-')[1])
  t.equal(await mcpStatus(tokens.access_token), 401)
  const res = await token(base, {
    grant_type: 'refresh_token',
    refresh_token: tokens.refresh_token,
    client_id: c.clientId,
  })
  t.equal(res.body.error, 'invalid_grant')
})

t.test('the consent form: CSRF token and cookie, one answer, deny', async (t) => {
  const { body: client } = await register(base, { redirect_uris: [callback.url] })
  const start = async () => {
    const u = new URL(`${base}/oauth/authorize`)
    u.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: callback.url,
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
      state: 'z',
    }).toString()
    return openAuthorization(u)
  }
  const page = await start()
  t.match(page.headers.get('content-security-policy'), /default-src 'none'/)
  t.match(page.headers.get('content-security-policy'), /frame-ancestors 'none'/)
  t.notMatch(page.text, /<script/i, 'no script')
  t.match(page.cookie, /^pw_oauth_/)
  t.match(page.headers.get('set-cookie'), /HttpOnly; SameSite=Lax/)
  const fields = formFields(page.text)
  t.equal((await answerConsent(base, fields, undefined)).status, 403, 'no cookie')
  t.equal((await answerConsent(base, { ...fields, csrf: 'x'.repeat(43) }, page.cookie)).status, 403, 'wrong token')
  const denied = await answerConsent(base, fields, page.cookie, 'deny')
  t.equal(denied.status, 303)
  t.equal(new URL(denied.location!).searchParams.get('error'), 'access_denied')
  t.equal((await answerConsent(base, fields, page.cookie)).status, 400, 'answered once only')
})

t.test('local sign-in answers only to a loopback Host', async (t) => {
  const res = await raw(base, 'GET', '/oauth/authorize?client_id=x', { host: 'evil.example' })
  t.equal(res.status, 403)
  t.match(res.text, /Local sign-in answers only/)
})

t.test('the token endpoint speaks OAuth errors', async (t) => {
  t.match(await token(base, { grant_type: 'password' }), { status: 400, body: { error: 'unsupported_grant_type' } })
  t.match(await token(base, { grant_type: 'authorization_code' }), { status: 400, body: { error: 'invalid_request' } })
  const json = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  })
  t.equal(json.status, 400)
  t.match(await json.json(), { error: 'invalid_request' })
  const dup = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=refresh_token&grant_type=authorization_code',
  })
  t.match(await dup.json(), { error: 'invalid_request', error_description: /more than once/ })
})
