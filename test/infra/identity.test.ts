/** Identity on its own: reuse of an existing OIDC provider, branch in the trust, protected pool. */
import t from 'tap'
import { setupMocks, valueOf } from '../../infra/testing/mocks.js'

const mocks = await setupMocks()
const { Identity, identityNames } = await import('../../infra/components/identity.js')

const existing = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com'
const identity = new Identity('id', {
  namePrefix: 'px-stage',
  githubRepo: 'someone/fork',
  deployBranch: 'release',
  existingOidcProviderArn: existing,
  deployPolicy: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
  workloadBoundaryPolicy: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
  tokenValidity: { accessTokenMinutes: 15, idTokenMinutes: 15, refreshTokenDays: 1 },
})
await valueOf(identity.deployRoleArn)
await mocks.settle()

t.test('an existing OIDC provider is reused, not created', async (t) => {
  t.equal(mocks.ofType('aws:iam/openIdConnectProvider:OpenIdConnectProvider').length, 0)
  t.equal(await valueOf(identity.oidcProviderArn), existing)
})

t.test('trust follows repo and branch from the args', async (t) => {
  const role = mocks.one('aws:iam/role:Role')
  t.equal(role.inputs.name, identityNames('px-stage').deployRole)
  const trust = JSON.parse(role.inputs.assumeRolePolicy)
  t.equal(trust.Statement[0].Principal.Federated, existing)
  t.equal(
    trust.Statement[0].Condition.StringEquals['token.actions.githubusercontent.com:sub'],
    'repo:someone/fork:ref:refs/heads/release',
  )
  t.notOk(JSON.stringify(trust).includes('*'), 'no wildcard anywhere in the trust policy')
})

t.test('token lifetimes and boundary policy', async (t) => {
  const client = mocks.one('aws:cognito/userPoolClient:UserPoolClient')
  t.same(
    [client.inputs.accessTokenValidity, client.inputs.idTokenValidity, client.inputs.refreshTokenValidity],
    [15, 15, 1],
  )
  t.same(client.inputs.tokenValidityUnits, { accessToken: 'minutes', idToken: 'minutes', refreshToken: 'days' })
  t.equal(mocks.one('aws:iam/policy:Policy').inputs.name, 'px-stage-workload-boundary')
  t.match(await valueOf(identity.workloadBoundaryArn), /:policy\/px-stage-workload-boundary$/)
  t.equal(await valueOf(identity.userPoolId), 'us-west-2_MockPool')
})
