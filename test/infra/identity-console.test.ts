/**
 * The web console's sign-in in the identity component, under Pulumi mocks: a public app client
 * for the authorization-code flow with exact callback URLs, the pool's managed login domain, and
 * the outputs the edge passes to the Lambda. Both cost nothing at rest (no per-hour resources).
 */
import t from 'tap'
import { setupMocks, valueOf } from '../../infra/testing/mocks.js'

const mocks = await setupMocks()
const { Identity, loginUrl } = await import('../../infra/components/identity.js')

const base = {
  namePrefix: 'px-prod',
  githubRepo: 'someone/repo',
  deployPolicy: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
  workloadBoundaryPolicy: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
}
const identity = new Identity('id', {
  ...base,
  console: {
    callbackUrls: ['https://api.example.com/console/'],
    domainPrefix: 'px-prod-123456789012',
    region: 'us-west-2',
  },
})
await valueOf(identity.deployRoleArn)
await mocks.settle()

t.test('a public client for authorization code + PKCE, exact callback URLs', async (t) => {
  const client = mocks.one('aws:cognito/userPoolClient:UserPoolClient', 'console')
  const i = client.inputs
  t.equal(i.name, 'px-prod-console')
  t.equal(i.generateSecret, false, 'no secret: a browser cannot keep one')
  t.equal(i.allowedOauthFlowsUserPoolClient, true)
  t.same(i.allowedOauthFlows, ['code'], 'no implicit flow')
  t.same(i.allowedOauthScopes, ['openid', 'email', 'profile'])
  t.same(i.supportedIdentityProviders, ['COGNITO'])
  t.same(i.callbackUrls, ['https://api.example.com/console/'])
  t.same(i.logoutUrls, ['https://api.example.com/console/'])
  t.same(i.explicitAuthFlows, ['ALLOW_REFRESH_TOKEN_AUTH'], 'no password or SRP sign-in outside the managed login')
  t.equal(i.enableTokenRevocation, true)
  t.equal(i.preventUserExistenceErrors, 'ENABLED')
  t.same([i.accessTokenValidity, i.refreshTokenValidity], [60, 7], 'same lifetimes as the CLI')
  const cli = mocks.one('aws:cognito/userPoolClient:UserPoolClient', 'cli')
  t.notOk(cli.inputs.allowedOauthFlowsUserPoolClient, "the CLI's client stays without OAuth flows")
})

t.test('the managed login domain and the outputs', async (t) => {
  const domain = mocks.one('aws:cognito/userPoolDomain:UserPoolDomain')
  t.equal(domain.inputs.domain, 'px-prod-123456789012')
  t.equal(domain.inputs.managedLoginVersion, 1, 'classic hosted UI: no branding resource needed')
  t.equal(domain.inputs.userPoolId, await valueOf(identity.userPoolId))
  t.equal(await valueOf(identity.loginUrl), 'https://px-prod-123456789012.auth.us-west-2.amazoncognito.com')
  t.equal(loginUrl('a', 'eu-west-1'), 'https://a.auth.eu-west-1.amazoncognito.com')
  t.match(await valueOf(identity.consoleClientId), /\S/)
  t.not(await valueOf(identity.consoleClientId), await valueOf(identity.cliClientId))
})

t.test('wildcards, http and bad prefixes are refused', async (t) => {
  const bad = (console: object) => () =>
    new Identity(`bad-${Math.random().toString(36).slice(2)}`, { ...base, console: console as never })
  const ok = { callbackUrls: ['https://api.example.com/console/'], domainPrefix: 'px-a', region: 'us-west-2' }
  t.throws(bad({ ...ok, callbackUrls: ['https://*.example.com/console/'] }), /exact https/)
  t.throws(bad({ ...ok, callbackUrls: ['http://api.example.com/console/'] }), /exact https/)
  t.throws(bad({ ...ok, logoutUrls: ['https://api.example.com/console/#x'] }), /exact https/)
  t.throws(bad({ ...ok, domainPrefix: 'My_Pool' }), /domain prefix/)
  t.throws(bad({ ...ok, domainPrefix: 'pennyworth-cognito' }), /domain prefix/)
})
