/**
 * The MCP OAuth facade deployed: `/oauth/authorize` sends the browser to Cognito's managed login
 * (a stand-in in front of cognito-local, test/helpers/managed-login.ts) with the gateway's own
 * PKCE; the callback exchanges Cognito's code, verifies the token, asks consent, and the MCP SDK
 * client ends with a grant owned by the person's Cognito `sub`.
 */
import t from 'tap'
import { CreateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { startGateway } from '../helpers/app.js'
import { startCognito } from '../helpers/cognito.js'
import { startManagedLogin } from '../helpers/managed-login.js'
import {
  MemoryOAuthProvider,
  answerConsent,
  formFields,
  openAuthorization,
  startCallbackListener,
} from '../helpers/oauth.js'

const cognito = await startCognito(t)
// The facade's own app client (infra/identity/mcp-oauth-client.ts): public, code grant.
const facadeClient = await cognito.client.send(
  new CreateUserPoolClientCommand({
    UserPoolId: cognito.userPoolId,
    ClientName: 'mcp-oauth',
    GenerateSecret: false,
    ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  }),
)
const facadeClientId = facadeClient.UserPoolClient!.ClientId!
const login = await startManagedLogin(t, cognito, facadeClientId)
const gw = await startGateway(t, {
  cognito,
  env: {
    PENNYWORTH_OAUTH_COGNITO_DOMAIN: login.domain,
    PENNYWORTH_OAUTH_COGNITO_CLIENT_ID: facadeClientId,
    PENNYWORTH_KEY_CACHE_TTL_MS: '0',
  },
  oauth: { fetch: login.fetch },
})
const base = gw.url
const callback = await startCallbackListener(t)

/** The browser: authorize → managed login → our callback (cookie kept) → the consent page. */
async function signInThroughCognito(authorizationUrl: string | URL, cookieOverride?: string) {
  const start = await openAuthorization(authorizationUrl)
  if (start.status !== 302) throw new Error(`authorize: ${start.status} ${start.text}`)
  const toLogin = new URL(start.location!)
  const atLogin = await openAuthorization(login.local(toLogin.href))
  const back = await openAuthorization(atLogin.location!, {
    ...(cookieOverride !== undefined ? (cookieOverride ? { cookie: cookieOverride } : {}) : { cookie: start.cookie! }),
  })
  return { start, toLogin, back, cookie: start.cookie }
}

t.test('discovery names the gateway, not the pool', async (t) => {
  const prm = await (await fetch(`${base}/.well-known/oauth-protected-resource/v1/mcp`)).json()
  t.same(prm.authorization_servers, [base])
})

t.test('the MCP SDK client signs a Cognito user in through the managed login', async (t) => {
  const { user } = cognito.users
  login.signInAs = { username: user.username, password: user.password }
  const provider = new MemoryOAuthProvider(callback.url, 'Claude Desktop')
  const first = new StreamableHTTPClientTransport(new URL(`${base}/v1/mcp`), { authProvider: provider })
  await t.rejects(new Client({ name: 'c', version: '1' }).connect(first), { message: 'Unauthorized' })

  const { toLogin, back, cookie } = await signInThroughCognito(provider.authorizationUrl!)
  t.equal(`${toLogin.origin}${toLogin.pathname}`, `${login.domain}/oauth2/authorize`)
  t.equal(toLogin.searchParams.get('client_id'), facadeClientId)
  t.equal(toLogin.searchParams.get('code_challenge_method'), 'S256', 'the gateway uses PKCE with Cognito too')
  t.equal(toLogin.searchParams.get('redirect_uri'), `${base}/oauth/callback`)
  t.equal(back.status, 200, 'consent page after the callback')
  t.match(back.text, /Claude Desktop/)
  t.equal(login.tokenRequests.at(-1)!.get('code_verifier')?.length, 43, 'the verifier went to the token endpoint')

  const answer = await answerConsent(base, formFields(back.text), cookie)
  t.equal(answer.status, 303)
  const params = new URL(answer.location!).searchParams
  t.equal(params.get('state'), provider.lastState)
  await first.finishAuth(params.get('code')!)

  const client = new Client({ name: 'c', version: '1' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/v1/mcp`), { authProvider: provider }))
  t.teardown(() => client.close())
  t.ok((await client.listTools()).tools.length > 0)
  const res = (await client.callTool({
    name: 'chat',
    arguments: { model: 'pennyworth-mock', prompt: 'hi' },
  })) as CallToolResult
  t.equal(res.isError, undefined)
  const keyId = provider.saved!.access_token.split('-')[1]
  t.match(await gw.app.keys.get(keyId), { owner: user.sub, name: 'MCP: Claude Desktop', audience: 'mcp' })
  t.match(gw.usage.events.at(-1), { keyId, owner: user.sub })
})

t.test('the callback must come back to the browser that started', async (t) => {
  login.signInAs = { username: cognito.users.user.username, password: cognito.users.user.password }
  const provider = new MemoryOAuthProvider(callback.url)
  await t.rejects(
    new Client({ name: 'c', version: '1' }).connect(
      new StreamableHTTPClientTransport(new URL(`${base}/v1/mcp`), { authProvider: provider }),
    ),
  )
  const { back } = await signInThroughCognito(provider.authorizationUrl!, '')
  t.equal(back.status, 403)
  t.match(back.text, /another browser/)
})

t.test('a person in no pennyworth group is refused', async (t) => {
  login.signInAs = { username: cognito.users.nobody.username, password: cognito.users.nobody.password }
  const provider = new MemoryOAuthProvider(callback.url)
  await t.rejects(
    new Client({ name: 'c', version: '1' }).connect(
      new StreamableHTTPClientTransport(new URL(`${base}/v1/mcp`), { authProvider: provider }),
    ),
  )
  const { back } = await signInThroughCognito(provider.authorizationUrl!)
  t.equal(back.status, 403)
  t.match(back.text, /no pennyworth group/)
})

t.test('no local consent page on a deployed gateway', async (t) => {
  // Local sign-in is off here: a loopback request still goes to the managed login.
  const provider = new MemoryOAuthProvider(callback.url)
  await t.rejects(
    new Client({ name: 'c', version: '1' }).connect(
      new StreamableHTTPClientTransport(new URL(`${base}/v1/mcp`), { authProvider: provider }),
    ),
  )
  const res = await openAuthorization(provider.authorizationUrl!)
  t.equal(res.status, 302)
  t.ok(res.location!.startsWith(login.domain))
})
