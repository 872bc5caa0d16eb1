/** The MCP OAuth facade's Cognito app client (infra/identity/mcp-oauth-client.ts), under Pulumi mocks. */
import t from 'tap'
import { setupMocks, valueOf } from '../../infra/testing/mocks.js'

const mocks = await setupMocks()
const { McpOAuthClient, mcpOAuthCallbackUrl } = await import('../../infra/identity/mcp-oauth-client.js')

const component = new McpOAuthClient('mcp', {
  namePrefix: 'px-stage',
  userPoolId: 'us-west-2_MockPool',
  apiDomain: 'api.example.com',
})
await valueOf(component.clientId)
await mocks.settle()

t.test('a public code-grant client with one exact https callback on the API domain', async (t) => {
  const client = mocks.one('aws:cognito/userPoolClient:UserPoolClient')
  t.equal(client.inputs.name, 'px-stage-mcp-oauth')
  t.equal(client.inputs.userPoolId, 'us-west-2_MockPool')
  t.equal(client.inputs.generateSecret, false, 'public: PKCE, no secret')
  t.equal(client.inputs.allowedOauthFlowsUserPoolClient, true)
  t.same(client.inputs.allowedOauthFlows, ['code'], 'no implicit flow')
  t.same(client.inputs.allowedOauthScopes, ['openid', 'email'])
  t.same(client.inputs.callbackUrls, ['https://api.example.com/oauth/callback'])
  t.equal(mcpOAuthCallbackUrl('api.example.com'), 'https://api.example.com/oauth/callback')
  t.same(client.inputs.supportedIdentityProviders, ['COGNITO'])
  t.same(client.inputs.explicitAuthFlows, ['ALLOW_REFRESH_TOKEN_AUTH'], 'no password flows through the API')
  t.equal(client.inputs.preventUserExistenceErrors, 'ENABLED')
  t.equal(client.inputs.enableTokenRevocation, true)
  t.ok(client.inputs.accessTokenValidity <= 60, 'short-lived: only read once by the gateway')
  t.notOk(JSON.stringify(client.inputs.callbackUrls).includes('http://'), 'no plain http callback')
})

t.test('its output is the client id', async (t) => {
  t.ok(await valueOf(component.clientId))
})
