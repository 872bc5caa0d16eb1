/**
 * The Cognito client on demand (clients.ts createCognitoClient) and UserDirectory with either a
 * client or such a provider: the SDK is loaded by the first call, and one client is reused.
 * (The directory's behaviour against cognito-local is in test/app/cli-admin.test.ts and
 * test/routes/admin-access.test.ts.)
 */
import t from 'tap'
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider'
import { createCognitoClient } from '../../app/clients.js'
import { UserDirectory } from '../../app/services/users.js'

t.test('createCognitoClient: a provider that builds one client on first call', async (t) => {
  const provider = createCognitoClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
  t.type(provider, 'function')
  const client = await provider()
  t.ok(client instanceof CognitoIdentityProviderClient)
  t.equal(await client.config.region(), 'eu-west-1', 'overrides applied')
  t.equal(await provider(), client, 'the same client afterwards')
  client.destroy()
})

/** A stand-in client that records the commands it is sent. */
function recordingClient() {
  const sent: Array<{ command: string; input: Record<string, unknown> }> = []
  const client = {
    sent,
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      sent.push({ command: command.constructor.name, input: command.input })
      return command.constructor.name === 'AdminGetUserCommand'
        ? {
            Username: 'u1',
            UserAttributes: [
              { Name: 'sub', Value: 's1' },
              { Name: 'email', Value: 'a@example.com' },
            ],
            Enabled: true,
            UserStatus: 'CONFIRMED',
          }
        : { Users: [] }
    },
  }
  return client
}

t.test('UserDirectory with a provider: asks for the client per call, sends the SDK commands', async (t) => {
  const client = recordingClient()
  let asked = 0
  const users = new UserDirectory(async () => {
    asked++
    return client as unknown as CognitoIdentityProviderClient
  }, 'pool-1')
  t.equal(asked, 0, 'nothing at construction')
  t.same(await users.list(), [])
  t.same(
    client.sent.map((s) => s.command),
    ['ListUsersInGroupCommand', 'ListUsersInGroupCommand', 'ListUsersCommand'],
  )
  t.match(client.sent[0]!.input, { UserPoolId: 'pool-1', GroupName: 'admin' })
  const found = await users.find('u1')
  t.match(found, { username: 'u1', sub: 's1', email: 'a@example.com', enabled: true })
  t.equal(asked, 2)
})

t.test('UserDirectory with a client, as tests inject it', async (t) => {
  const client = recordingClient()
  const users = new UserDirectory(client as unknown as CognitoIdentityProviderClient, 'pool-2')
  await users.disable({
    username: 'u9',
    sub: 's9',
    email: null,
    enabled: true,
    status: 'CONFIRMED',
    groups: [],
    createdAt: null,
  })
  t.same(client.sent, [{ command: 'AdminDisableUserCommand', input: { UserPoolId: 'pool-2', Username: 'u9' } }])
})

t.test('a provider that fails is a 500-class error, and the next call tries again', async (t) => {
  let fail = true
  const client = recordingClient()
  const users = new UserDirectory(async () => {
    if (fail) throw new Error('cannot build the client')
    return client as unknown as CognitoIdentityProviderClient
  }, 'pool-3')
  await t.rejects(users.list(), /cannot build the client/)
  fail = false
  t.same(await users.list(), [])
})
