/**
 * The console's routes without a browser: static files (caching, types, no path climbing, 404
 * when not built), security headers and the CSP per sign-in mode, local sign-in (loopback peer and
 * Host only; the session is an admin on the admin API and nothing else), and Cognito tokens of the
 * console's own app client accepted beside the CLI's (cognito-local).
 */
import t from 'tap'
import {
  CreateUserPoolClientCommand,
  InitiateAuthCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../app/config.js'
import { LocalConsoleLogin } from '../../app/services/console-login.js'
import { startGateway } from '../helpers/app.js'
import { startCognito } from '../helpers/cognito.js'

const dir = mkdtempSync(join(tmpdir(), 'pennyworth-console-files-'))
mkdirSync(join(dir, 'assets'))
writeFileSync(
  join(dir, 'index.html'),
  '<!doctype html><meta name="pennyworth-console" content="">' +
    '<script type="module" src="assets/main-ABC123.js"></script>',
)
writeFileSync(join(dir, 'assets', 'main-ABC123.js'), 'export const x = 1\n')
writeFileSync(join(dir, 'assets', 'main-ABC123.css'), 'body{}\n')
writeFileSync(join(dir, 'secret.txt'), 'outside assets/\n')

const local = new LocalConsoleLogin()
const gw = await startGateway(t, { console: { dir, local }, env: { PENNYWORTH_PUBLIC_URL: 'https://api.example.com' } })
const LOOPBACK = { remoteAddress: '127.0.0.1', headers: { host: '127.0.0.1:8787' } }

t.test('index.html: no-cache, settings in a meta tag, every security header', async (t) => {
  const res = await gw.app.inject({ method: 'GET', url: '/console/' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.equal(res.headers['cache-control'], 'no-cache')
  t.equal(
    res.headers['content-security-policy'],
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
      "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  )
  t.equal(res.headers['x-frame-options'], 'DENY')
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.equal(res.headers['referrer-policy'], 'no-referrer')
  t.equal(res.headers['cross-origin-opener-policy'], 'same-origin')
  t.match(
    res.body,
    '<meta name="pennyworth-console" content="{&quot;signIn&quot;:&quot;local&quot;,' +
      '&quot;apiUrl&quot;:&quot;https://api.example.com&quot;}">',
  )
  const redirect = await gw.app.inject({ method: 'GET', url: '/console' })
  t.equal(redirect.statusCode, 308)
  t.equal(redirect.headers.location, '/console/')
})

t.test('assets: long cache, right types, nothing outside assets/', async (t) => {
  const js = await gw.app.inject({ method: 'GET', url: '/console/assets/main-ABC123.js' })
  t.equal(js.statusCode, 200)
  t.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.equal(js.headers['content-type'], 'text/javascript; charset=utf-8')
  t.ok(js.headers['content-security-policy'])
  const css = await gw.app.inject({ method: 'GET', url: '/console/assets/main-ABC123.css' })
  t.equal(css.headers['content-type'], 'text/css; charset=utf-8')
  for (const bad of [
    '..%2Fsecret.txt',
    '..%2F..%2Fpackage.json',
    '.hidden.js',
    'main.exe',
    'nope-1.js',
    '%2Fetc%2Fpasswd',
  ]) {
    const res = await gw.app.inject({ method: 'GET', url: `/console/assets/${bad}` })
    t.equal(res.statusCode, 404, bad)
    t.equal(res.json().error.type, 'not_found_error', `${bad}: the gateway's error shape`)
  }
})

t.test('not built: 404 console_not_built, a later build is picked up', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'pennyworth-console-empty-'))
  const other = await startGateway(t, { console: { dir: empty } })
  const res = await other.app.inject({ method: 'GET', url: '/console/' })
  t.equal(res.statusCode, 404)
  t.equal(res.json().error.code, 'console_not_built')
  writeFileSync(join(empty, 'index.html'), '<meta name="pennyworth-console" content="">')
  const later = await other.app.inject({ method: 'GET', url: '/console/' })
  t.equal(later.statusCode, 200)
  t.match(later.body, /signIn&quot;:&quot;none/, 'no local sign-in and no Cognito console client: nobody signs in')
  const noLocal = await other.app.inject({ method: 'POST', url: '/console/local-session', payload: { login: 'x' } })
  t.equal(noLocal.statusCode, 404, 'local sign-in exists only where the local server enables it')
})

t.test('local sign-in: loopback only, once; the session is an admin on the admin API only', async (t) => {
  const exchange = (login: string, extra: object = LOOPBACK) =>
    gw.app.inject({ method: 'POST', url: '/console/local-session', payload: { login }, ...extra })
  const foreignHost = await exchange(local.issueLink(), { remoteAddress: '127.0.0.1', headers: { host: 'evil.test' } })
  t.equal(foreignHost.statusCode, 403)
  t.equal(foreignHost.json().error.code, 'not_loopback')
  const remote = await exchange(local.issueLink(), { remoteAddress: '10.1.2.3', headers: { host: '127.0.0.1' } })
  t.equal(remote.statusCode, 403)
  const bad = await gw.app.inject({ method: 'POST', url: '/console/local-session', payload: {}, ...LOOPBACK })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error.param, 'login')

  const link = local.issueLink()
  const ok = await exchange(link)
  t.equal(ok.statusCode, 200)
  t.equal(ok.headers['cache-control'], 'no-store')
  const { token, expiresAt, user } = ok.json()
  t.same(user, { username: 'local-admin', admin: true })
  t.ok(Date.parse(expiresAt) > Date.now())
  const again = await exchange(link)
  t.equal(again.statusCode, 401)
  t.equal(again.json().error.code, 'invalid_login_link')

  const auth = { authorization: `Bearer ${token}` }
  const created = await gw.app.inject({
    method: 'POST',
    url: '/v1/admin/keys',
    headers: auth,
    payload: { name: 'from-console', models: ['pennyworth-mock'] },
    remoteAddress: '127.0.0.1',
  })
  t.equal(created.statusCode, 201)
  t.equal(created.json().owner, 'local')
  const audit = await gw.app.inject({ method: 'GET', url: '/v1/admin/audit', headers: auth })
  t.match(audit.json().data[0], { action: 'key.create', who: { kind: 'user', id: 'local', name: 'local-admin' } })
  const users = await gw.app.inject({ method: 'GET', url: '/v1/admin/users', headers: auth })
  t.equal(users.statusCode, 501, 'no user pool here: users_not_configured, not a crash')

  const fromElsewhere = await gw.app.inject({
    method: 'GET',
    url: '/v1/admin/me',
    headers: auth,
    remoteAddress: '10.1.2.3',
  })
  t.equal(fromElsewhere.statusCode, 401, 'the session token is refused from a non-loopback peer')
  const asKey = await gw.app.inject({ method: 'GET', url: '/v1/models', headers: auth })
  t.equal(asKey.statusCode, 401, 'a console session is not an API key')
  const signOut = await gw.app.inject({ method: 'DELETE', url: '/console/local-session', headers: auth })
  t.equal(signOut.statusCode, 204, 'sign-out')
  const ended = await gw.app.inject({ method: 'GET', url: '/v1/admin/me', headers: auth })
  t.equal(ended.statusCode, 401)
  t.match(ended.json().error.message, /open a new sign-in link/)
})

t.test('deployed settings: the managed login is the only other origin, for the token exchange', async (t) => {
  const cognito = await startCognito(t)
  const consoleClient = await createClient(cognito.client, cognito.userPoolId, 'console')
  const stranger = await createClient(cognito.client, cognito.userPoolId, 'stranger')
  const loginUrl = 'https://pennyworth-test.auth.us-east-1.amazoncognito.com'
  const deployed = await startGateway(t, {
    cognito,
    console: { dir },
    env: { PENNYWORTH_CONSOLE_CLIENT_ID: consoleClient, PENNYWORTH_COGNITO_LOGIN_URL: loginUrl },
  })
  const page = await deployed.app.inject({ method: 'GET', url: '/console/' })
  t.match(page.headers['content-security-policy'], `connect-src 'self' ${loginUrl};`)
  t.match(
    page.body,
    `&quot;signIn&quot;:&quot;cognito&quot;,&quot;cognito&quot;:{&quot;loginUrl&quot;:&quot;${loginUrl}`,
  )
  t.match(page.body, `&quot;clientId&quot;:&quot;${consoleClient}&quot;`)

  const { admin } = cognito.users
  const me = async (clientId: string) => {
    const out = await cognito.client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: admin.username, PASSWORD: admin.password },
      }),
    )
    const res = await deployed.app.inject({
      method: 'GET',
      url: '/v1/admin/me',
      headers: { authorization: `Bearer ${out.AuthenticationResult!.AccessToken}` },
    })
    return res.statusCode
  }
  t.equal(await me(consoleClient), 200, "the console client's access token is accepted")
  t.equal(await me(cognito.clientId), 200, "the CLI client's still is")
  t.equal(await me(stranger), 401, 'another app client of the same pool is not')
})

t.test('config: the console client and the login URL come together', async (t) => {
  const pool = { PENNYWORTH_COGNITO_USER_POOL_ID: 'us-west-2_AbC123', PENNYWORTH_COGNITO_CLIENT_ID: 'cli' }
  t.throws(() => loadConfig({ ...pool, PENNYWORTH_CONSOLE_CLIENT_ID: 'console' }), ConfigError)
  t.throws(() => loadConfig({ ...pool, PENNYWORTH_COGNITO_LOGIN_URL: 'https://x.auth.us-west-2.amazoncognito.com' }))
  t.throws(() =>
    loadConfig({ ...pool, PENNYWORTH_CONSOLE_CLIENT_ID: 'a b', PENNYWORTH_COGNITO_LOGIN_URL: 'https://x' }),
  )
  t.throws(() => loadConfig({ ...pool, PENNYWORTH_CONSOLE_CLIENT_ID: 'c', PENNYWORTH_COGNITO_LOGIN_URL: 'ftp://x' }))
  const c = loadConfig({
    ...pool,
    PENNYWORTH_CONSOLE_CLIENT_ID: 'console',
    PENNYWORTH_COGNITO_LOGIN_URL: 'https://x.auth.us-west-2.amazoncognito.com/',
  }).cognito!
  t.equal(c.consoleClientId, 'console')
  t.equal(c.loginUrl, 'https://x.auth.us-west-2.amazoncognito.com', 'trailing slash dropped')
})

async function createClient(client: CognitoIdentityProviderClient, userPoolId: string, name: string) {
  const out = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientName: name,
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    }),
  )
  return out.UserPoolClient!.ClientId!
}
