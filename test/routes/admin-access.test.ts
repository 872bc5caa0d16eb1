/**
 * Who may do what on /v1/admin, with real cognito-local JWTs and the embedded DynamoDB-API store:
 * every route of the route table × every kind of caller, then ownership between users, the
 * audit trail, and the rotation grace period through the API.
 */
import t from 'tap'
import { ScanCommand } from '@aws-sdk/lib-dynamodb'
import { startGateway } from '../helpers/app.js'
import { startCognito, type TestUser } from '../helpers/cognito.js'

const cognito = await startCognito(t)
const gw = await startGateway(t, { cognito })
const { admin, user, other, nobody } = cognito.users

type Who = 'anonymous' | 'api-key' | 'id-token' | 'nobody' | 'user' | 'admin'
/** Which routes need group admin; every other /v1/admin route accepts groups admin and user. */
const ACCESS: Record<string, 'admin' | 'signed-in'> = {
  'GET /v1/admin/me': 'signed-in',
  'POST /v1/admin/keys': 'signed-in',
  'GET /v1/admin/keys': 'signed-in',
  'GET /v1/admin/keys/:id': 'signed-in',
  'PATCH /v1/admin/keys/:id': 'signed-in',
  'POST /v1/admin/keys/:id/revoke': 'signed-in',
  'POST /v1/admin/keys/:id/rotate': 'signed-in',
  'GET /v1/admin/usage': 'signed-in',
  'GET /v1/admin/users': 'admin',
  'POST /v1/admin/users': 'admin',
  'POST /v1/admin/users/:username/disable': 'admin',
  'GET /v1/admin/audit': 'admin',
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
function headersFor(who: Who): Record<string, string> {
  switch (who) {
    case 'anonymous':
      return {}
    case 'api-key':
      return bearer(gw.key)
    case 'id-token':
      return bearer(admin.tokens.idToken)
    default:
      return bearer(cognito.users[who].tokens.accessToken)
  }
}

async function call(who: Who | TestUser, method: string, url: string, payload?: unknown) {
  const headers = typeof who === 'string' ? headersFor(who) : bearer(who.tokens.accessToken)
  return gw.app.inject({
    method: method as 'GET',
    url,
    headers,
    payload: payload as Record<string, unknown> | undefined,
  })
}

let n = 0
/** A request that should succeed for `who` (own key, fresh user…), per route. */
async function realistic(who: Who, method: string, route: string): Promise<{ url: string; payload?: unknown }> {
  const owner = who === 'admin' ? admin : user
  const ownKey = async () => (await call(owner, 'POST', '/v1/admin/keys', { name: `k${++n}` })).json().id as string
  switch (`${method} ${route}`) {
    case 'POST /v1/admin/keys':
      return { url: route, payload: { name: `k${++n}`, models: ['pennyworth-mock'], rpm: 60 } }
    case 'PATCH /v1/admin/keys/:id':
      return { url: `/v1/admin/keys/${await ownKey()}`, payload: { name: 'renamed' } }
    case 'POST /v1/admin/keys/:id/revoke':
      return { url: `/v1/admin/keys/${await ownKey()}/revoke`, payload: {} }
    case 'POST /v1/admin/keys/:id/rotate':
      return { url: `/v1/admin/keys/${await ownKey()}/rotate`, payload: { gracePeriodSeconds: 60 } }
    case 'GET /v1/admin/keys/:id':
      return { url: `/v1/admin/keys/${await ownKey()}` }
    case 'POST /v1/admin/users':
      return {
        url: route,
        payload: {
          email: `new${++n}@example.com`,
          group: 'user',
          sendInvite: false,
          temporaryPassword: 'Temp-Passw0rd!',
        },
      }
    case 'POST /v1/admin/users/:username/disable': {
      const { username } = await cognito.createUser(`gone${++n}@example.com`, { group: 'user' })
      return { url: `/v1/admin/users/${encodeURIComponent(username)}/disable`, payload: {} }
    }
    default:
      return { url: route, payload: method === 'GET' ? undefined : {} }
  }
}

t.test('role × route: every /v1/admin route, every kind of caller', async (t) => {
  const routes = gw.app.routeTable
    .flatMap((r) =>
      (Array.isArray(r.method) ? r.method : [r.method]).map((method) => ({ method: String(method), url: r.url! })),
    )
    .filter((r) => r.url.startsWith('/v1/admin') && r.method !== 'HEAD')
  t.same(
    routes.map((r) => `${r.method} ${r.url}`).sort(),
    Object.keys(ACCESS).sort(),
    'every admin route is classified here',
  )
  for (const { method, url } of routes) {
    const access = ACCESS[`${method} ${url}`]
    for (const who of ['anonymous', 'api-key', 'id-token', 'nobody', 'user', 'admin'] as const) {
      const req = await realistic(who, method, url)
      const res = await call(who, method, req.url, req.payload)
      const label = `${who} → ${method} ${url}`
      const allowed = who === 'admin' || (who === 'user' && access === 'signed-in')
      if (who === 'anonymous' || who === 'api-key' || who === 'id-token') {
        t.equal(res.statusCode, 401, label)
        t.equal(res.json().error.type, 'authentication_error', `${label}: error shape`)
      } else if (!allowed) {
        t.equal(res.statusCode, 403, label)
        t.equal(res.json().error.code, 'group_required', `${label}: code`)
      } else {
        t.ok(
          res.statusCode === 200 || res.statusCode === 201,
          `${label}: ${res.statusCode} ${res.statusCode >= 300 ? res.body : ''}`,
        )
      }
    }
  }
})

t.test("users: only their own keys; admins: everyone's", async (t) => {
  const mine = (await call(user, 'POST', '/v1/admin/keys', { name: 'mine' })).json()
  const theirs = (await call(other, 'POST', '/v1/admin/keys', { name: 'theirs', models: ['pennyworth-mock'] })).json()
  t.equal(mine.owner, user.sub, 'owner is the Cognito sub')
  t.match(theirs.key, /^pw-/, 'the key is returned once')

  const listed = (await call(user, 'GET', '/v1/admin/keys')).json().data as Array<{ id: string; owner: string }>
  t.ok(
    listed.every((k) => k.owner === user.sub),
    'list shows only own keys',
  )
  t.ok(listed.some((k) => k.id === mine.id))
  for (const [method, url, payload] of [
    ['GET', `/v1/admin/keys/${theirs.id}`, undefined],
    ['PATCH', `/v1/admin/keys/${theirs.id}`, { name: 'x' }],
    ['POST', `/v1/admin/keys/${theirs.id}/revoke`, {}],
    ['POST', `/v1/admin/keys/${theirs.id}/rotate`, {}],
    ['GET', `/v1/admin/usage?key_id=${theirs.id}`, undefined],
  ] as const) {
    const res = await call(user, method, url, payload)
    t.equal(res.statusCode, 404, `user → ${method} ${url}: not found (existence not revealed)`)
  }
  for (const [method, url, payload] of [
    ['GET', `/v1/admin/keys?owner=${other.sub}`, undefined],
    ['POST', '/v1/admin/keys', { name: 'x', owner: other.username }],
    ['GET', `/v1/admin/usage?owner=${other.sub}`, undefined],
  ] as const) {
    const res = await call(user, method, url, payload)
    t.equal(res.statusCode, 403, `user → ${method} ${url}`)
    t.equal(res.json().error.code, 'admin_required')
  }
  t.equal((await call(user, 'GET', `/v1/admin/usage?owner=${user.sub}`)).statusCode, 200, 'own usage by owner is fine')

  // Admins: anyone's key, by e-mail or sub.
  t.equal((await call(admin, 'GET', `/v1/admin/keys/${theirs.id}`)).json().id, theirs.id)
  const forOther = (await call(admin, 'POST', '/v1/admin/keys', { name: 'given', owner: other.username })).json()
  t.equal(forOther.owner, other.sub, 'owner by e-mail → sub')
  const byOwner = (await call(admin, 'GET', `/v1/admin/keys?owner=${encodeURIComponent(other.username)}`)).json()
    .data as Array<{ owner: string }>
  t.ok(byOwner.length >= 2 && byOwner.every((k) => k.owner === other.sub))
  t.equal(
    (await call(admin, 'POST', '/v1/admin/keys', { name: 'x', owner: 'ghost@example.com' })).statusCode,
    404,
    'unknown owner',
  )
  const all = (await call(admin, 'GET', '/v1/admin/keys')).json().data as Array<{ owner: string }>
  t.ok(new Set(all.map((k) => k.owner)).size >= 3, "admins list everyone's keys")
  const patched = await call(admin, 'PATCH', `/v1/admin/keys/${theirs.id}`, {
    monthlyBudgetMicroUsd: 2_000_000,
    expires: null,
  })
  t.match(patched.json(), { monthlyBudgetMicroUsd: 2_000_000, expires: null })
  t.equal((await call(admin, 'POST', `/v1/admin/keys/${theirs.id}/revoke`, {})).json().status, 'revoked')
  t.equal(
    (await call(other, 'PATCH', `/v1/admin/keys/${theirs.id}`, { name: 'y' })).statusCode,
    409,
    'a revoked key cannot change',
  )
})

t.test('validation: schemas, catalog models, limits, never secrets in responses', async (t) => {
  const bad = [
    [{ name: '' }, 'name'],
    [{ name: 'x', models: [] }, 'models'],
    [{ name: 'x', rpm: 0 }, 'rpm'],
    [{ name: 'x', expires: 'tomorrow' }, 'expires'],
    [{ name: 'x', secretHash: 'aa' }, null],
    [{ name: 'x', models: ['gpt-17'] }, 'models'],
    [{ name: 'x', models: ['*', 'nova-pro'] }, 'models'],
    [{ name: 'x', expires: '2001-01-01T00:00:00Z' }, 'expires'],
    [{ name: 'x', monthlyBudgetMicroUsd: 1, softBudgetMicroUsd: 2 }, null],
  ] as const
  for (const [payload, param] of bad) {
    const res = await call(user, 'POST', '/v1/admin/keys', payload)
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    if (param) t.equal(res.json().error.param, param, `${JSON.stringify(payload)} param`)
  }
  t.equal((await call(user, 'GET', '/v1/admin/keys/NOT-AN-ID')).statusCode, 400)
  t.equal((await call(user, 'PATCH', `/v1/admin/keys/${'a'.repeat(12)}`, {})).statusCode, 400, 'empty update')
  t.equal(
    (await call(user, 'POST', `/v1/admin/keys/${'a'.repeat(12)}/rotate`, { gracePeriodSeconds: 31 * 86_400 }))
      .statusCode,
    400,
    'grace over 30 days',
  )
  const created = (await call(user, 'POST', '/v1/admin/keys', { name: 'aliases', models: ['pennyworth-mock'] })).json()
  const rotated = (await call(user, 'POST', `/v1/admin/keys/${created.id}/rotate`, { gracePeriodSeconds: 60 })).json()
  for (const body of [created, rotated, (await call(user, 'GET', `/v1/admin/keys/${created.id}`)).json()]) {
    t.notOk('secretHash' in body || 'previousSecretHash' in body, 'no hashes in responses')
  }
})

t.test('users admin: create with a group, list, disable; audit trail without secrets', async (t) => {
  const created = await call(admin, 'POST', '/v1/admin/users', {
    email: 'carol@example.com',
    group: 'user',
    sendInvite: false,
    temporaryPassword: 'Carol-Temp-1!',
  })
  t.equal(created.statusCode, 201)
  t.match(created.json(), {
    email: 'carol@example.com',
    groups: ['user'],
    enabled: true,
    status: 'FORCE_CHANGE_PASSWORD',
  })
  t.equal(
    (await call(admin, 'POST', '/v1/admin/users', { email: 'carol@example.com', group: 'user', sendInvite: false }))
      .statusCode,
    409,
    'exists',
  )
  t.equal((await call(admin, 'POST', '/v1/admin/users', { email: 'not-an-email', group: 'user' })).statusCode, 400)
  t.equal((await call(admin, 'POST', '/v1/admin/users', { email: 'x@example.com', group: 'root' })).statusCode, 400)

  const users = (await call(admin, 'GET', '/v1/admin/users')).json().data as Array<{
    email: string
    groups: string[]
    enabled: boolean
    sub: string
  }>
  t.same(users.find((u) => u.email === 'admin@example.com')?.groups, ['admin'])
  t.same(users.find((u) => u.email === 'nobody@example.com')?.groups, [])
  t.same(users.find((u) => u.email === 'carol@example.com')?.groups, ['user'])

  const disabled = await call(admin, 'POST', '/v1/admin/users/carol@example.com/disable', {})
  t.equal(disabled.json().enabled, false)
  const again = (await call(admin, 'GET', '/v1/admin/users')).json().data as Array<{ email: string; enabled: boolean }>
  t.equal(again.find((u) => u.email === 'carol@example.com')?.enabled, false)
  t.equal((await call(admin, 'POST', '/v1/admin/users/admin@example.com/disable', {})).statusCode, 400, 'not yourself')
  t.equal((await call(admin, 'POST', '/v1/admin/users/ghost@example.com/disable', {})).statusCode, 404)

  const audit = (await call(admin, 'GET', '/v1/admin/audit?limit=1000')).json().data as Array<{
    action: string
    target: string
    who: { id: string }
    at: string
    details: Record<string, unknown>
  }>
  const actions = new Set(audit.map((a) => a.action))
  for (const a of ['key.create', 'key.update', 'key.revoke', 'key.rotate', 'user.create', 'user.disable'])
    t.ok(actions.has(a), `audited: ${a}`)
  const carol = audit.find((a) => a.action === 'user.create' && a.details.email === 'carol@example.com')!
  t.equal(carol.who.id, admin.sub)
  t.notOk('temporaryPassword' in carol.details)
  t.ok(
    audit.every((a, i) => i === 0 || audit[i - 1].at >= a.at),
    'newest first',
  )
  t.equal((await call(admin, 'GET', '/v1/admin/audit?limit=2')).json().data.length, 2)
  t.equal(
    (await call(admin, 'GET', '/v1/admin/audit?from=2001-01-01T00:00:00Z&to=2001-01-31T00:00:00Z')).json().data.length,
    0,
  )

  // Straight from the table: no key, secret, hash or password anywhere.
  await gw.app.inject({ method: 'GET', url: '/health' })
  const items = (
    await (
      await import('../../app/clients.js')
    )
      .createDocumentClient({
        endpoint: gw.dynamoEndpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      })
      .send(new ScanCommand({ TableName: 'pennyworth-audit' }))
  ).Items!
  const raw = JSON.stringify(items)
  t.ok(items.length > 10)
  t.notMatch(raw, /pw-[a-z2-9]{12}-/, 'no API key')
  t.notMatch(raw, /[0-9a-f]{64}/, 'no hash')
  t.notMatch(raw, /Carol-Temp-1!|Temp-Passw0rd!/, 'no password')
  t.ok(
    items.every((i) => /^audit#\d{4}-\d{2}$/.test(i.pk) && i.sk.startsWith(i.at)),
    'pk per month, sk = time#id',
  )
})

t.test('rotation through the API: the old key works for the grace period, then stops', async (t) => {
  const created = (await call(user, 'POST', '/v1/admin/keys', { name: 'rotating' })).json()
  const client = (key: string) => gw.app.inject({ method: 'GET', url: '/v1/models', headers: bearer(key) })
  t.equal((await client(created.key)).statusCode, 200)
  const rotated = (await call(user, 'POST', `/v1/admin/keys/${created.id}/rotate`, { gracePeriodSeconds: 1 })).json()
  t.equal(rotated.id, created.id)
  t.ok(Date.parse(rotated.graceUntil) > Date.now())
  t.equal((await client(rotated.key)).statusCode, 200, 'new key at once')
  t.equal((await client(created.key)).statusCode, 200, 'old key during the grace period')
  await new Promise((r) => setTimeout(r, Date.parse(rotated.graceUntil) - Date.now() + 50))
  t.equal((await client(created.key)).statusCode, 401, 'old key after it')
  t.equal((await client(rotated.key)).statusCode, 200)
  const now = (await call(user, 'POST', `/v1/admin/keys/${created.id}/rotate`, {})).json()
  t.equal(now.graceUntil, undefined, 'no grace by default')
  t.equal((await client(rotated.key)).statusCode, 401, 'grace 0: the replaced key stops at once')
})

t.test('me, and the well-known document', async (t) => {
  t.same((await call(nobody, 'GET', '/v1/admin/me')).statusCode, 403, 'no group: nothing at all')
  t.same((await call(user, 'GET', '/v1/admin/me')).json(), {
    sub: user.sub,
    username: user.cognitoUsername,
    groups: ['user'],
    admin: false,
  })
  const doc = await gw.app.inject({ method: 'GET', url: '/v1/.well-known/pennyworth' })
  t.equal(doc.statusCode, 200)
  t.match(doc.json(), {
    name: 'pennyworth',
    apiVersion: '1',
    auth: { type: 'cognito', region: 'us-east-1', userPoolId: cognito.userPoolId, clientId: cognito.clientId },
  })
})
