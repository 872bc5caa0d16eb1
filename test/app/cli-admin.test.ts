/**
 * The `pennyworth` CLI end to end: cognito-local, `npm start`'s server as a child process (local
 * mode, on-disk store) configured for that pool, and the CLI's main() in-process, one token
 * cache per person — sign-in (new password, TOTP), keys, usage, users, refresh, sign-out, exit
 * codes. (test/app/cli-smoke.test.ts runs the command itself as a process.)
 */
import t from 'tap'
import {
  AssociateSoftwareTokenCommand,
  SetUserMFAPreferenceCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { startCognito } from '../helpers/cognito.js'
import { json, runCli, type CliResult } from '../helpers/cli.js'
import { totp } from '../helpers/totp.js'

const cognito = await startCognito(t)
const dataDir = mkdtempSync(join(tmpdir(), 'pennyworth-cli-admin-'))
const baseEnv: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: cognito.endpoint,
}
delete baseEnv.AWS_ENDPOINT_URL_DYNAMODB
delete baseEnv.PENNYWORTH_API_URL

// The gateway: local mode with the pool configured; its Admin* calls are signed with dummy keys.
const server: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'app/server.ts'], {
  env: {
    ...baseEnv,
    ...cognito.env,
    PENNYWORTH_DATA_DIR: dataDir,
    PORT: '0',
    PENNYWORTH_LOG_LEVEL: 'warn',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
})
t.teardown(() => {
  if (server.exitCode === null) server.kill('SIGKILL')
})
let serverOut = ''
server.stdout!.on('data', (d) => {
  serverOut += d
})
server.stderr!.on('data', (d) => {
  serverOut += d
})
const deadline = Date.now() + 30_000
while (!/listening on (\S+)\/v1/.test(serverOut)) {
  if (Date.now() > deadline || server.exitCode !== null) throw new Error(`server did not start: ${serverOut}`)
  await new Promise((r) => setTimeout(r, 50))
}
const apiUrl = /listening on (\S+)\/v1/.exec(serverOut)![1]

/** Runs the CLI as `home`'s person; `input` answers its prompts, one per line. */
function cli(home: string, args: string[], input = '', env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(
    args,
    {
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: cognito.endpoint,
      PENNYWORTH_HOME: home,
      PENNYWORTH_API_URL: apiUrl,
      ...env,
    },
    input,
  )
}
const homeOf = (name: string) => mkdtempSync(join(tmpdir(), `pennyworth-home-${name}-`))
const adminHome = homeOf('admin')
const daveHome = homeOf('dave')

t.test('admin signs in (SRP is unavailable on cognito-local: password flow); tokens cached 0600', async (t) => {
  const { admin } = cognito.users
  const r = await cli(adminHome, ['login', '--username', admin.username], `${admin.password}\n`)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /Signed in to .* as admin@example.com \(admin\)/)
  t.match(r.stderr, /SRP sign-in is not available here; signing in with USER_PASSWORD_AUTH/)
  t.notMatch(r.stderr + r.stdout, /⠋|⠙/, 'no spinner when stdout is not a terminal')
  const file = join(adminHome, 'credentials.json')
  t.equal(statSync(file).mode & 0o777, 0o600, 'credentials file 0600')
  t.equal(statSync(adminHome).mode & 0o777, 0o700, 'directory 0700')
  const cached = JSON.parse(readFileSync(file, 'utf8'))
  t.equal(cached.current, apiUrl)
  t.match(cached.sessions[apiUrl], {
    username: admin.username,
    userPoolId: cognito.userPoolId,
    clientId: cognito.clientId,
  })
  t.notMatch(readFileSync(file, 'utf8'), admin.password, 'the password is not cached')

  const me = json(await cli(adminHome, ['whoami', '--json']))
  t.match(me, { apiUrl, signedInAs: admin.username, sub: admin.sub, groups: ['admin'], admin: true })
  t.match((await cli(adminHome, ['whoami'])).stdout, /role\s+admin/)

  const wrong = await cli(homeOf('x'), ['login', '--username', admin.username, '--json'], 'not-the-password\n')
  t.equal(wrong.code, 3, 'wrong password: exit 3')
  t.match(wrong.stderr, /sign-in failed/)
  const srpOnly = await cli(
    homeOf('y'),
    ['login', '--username', admin.username, '--flow', 'srp'],
    `${admin.password}\n`,
  )
  t.equal(srpOnly.code, 1, '--flow srp does not fall back')
})

t.test('admin adds a user; the user sets a new password at first sign-in and manages keys', async (t) => {
  const added = await cli(
    adminHome,
    ['users', 'add', 'dave@example.com', '--group', 'user', '--no-invite', '--set-password', '--json'],
    'Dave-Temp-Pass1!\n',
  )
  t.match(json(added), { email: 'dave@example.com', groups: ['user'], status: 'FORCE_CHANGE_PASSWORD' })
  const login = await cli(
    daveHome,
    ['login', '--username', 'dave@example.com'],
    'Dave-Temp-Pass1!\nDave-New-Pass2!\nDave-New-Pass2!\n',
  )
  t.equal(login.code, 0, login.stderr)
  t.match(login.stderr, /a new password is required/)
  t.match(login.stdout, /as dave@example.com \(user\)/)
  const relogin = await cli(homeOf('d2'), ['login', '--username', 'dave@example.com', '--json'], 'Dave-New-Pass2!\n')
  t.equal(relogin.code, 0, 'the new password works')

  const created = json(
    await cli(daveHome, [
      'keys',
      'create',
      '--name',
      'laptop',
      '--models',
      'pennyworth-mock',
      '--budget-usd',
      '5',
      '--rpm',
      '60',
      '--expires',
      '30d',
      '--json',
    ]),
  )
  t.match(created, {
    name: 'laptop',
    models: ['pennyworth-mock'],
    monthlyBudgetMicroUsd: 5_000_000,
    rpm: 60,
    status: 'active',
  })
  t.match(created.key, /^pw-[a-z2-9]{12}-/)
  const client = new OpenAI({ apiKey: created.key, baseURL: `${apiUrl}/v1`, maxRetries: 0 })
  t.equal(
    (await client.chat.completions.create({ model: 'pennyworth-mock', messages: [{ role: 'user', content: 'hi' }] }))
      .choices[0].message.content,
    'You said: hi',
  )

  const human = await cli(daveHome, ['keys', 'create', '--name', 'other'])
  t.match(human.stdout, /API key \(shown once, store it now\): pw-/)
  const listed = json(await cli(daveHome, ['keys', 'list', '--json']))
  t.same(listed.map((k: { name: string }) => k.name).sort(), ['laptop', 'other'])
  t.notOk(
    listed.some((k: Record<string, unknown>) => 'key' in k || 'secretHash' in k),
    'no secrets in lists',
  )
  t.match((await cli(daveHome, ['keys', 'list'])).stdout, /ID\s+NAME\s+OWNER\s+STATUS/)
  t.match((await cli(daveHome, ['keys', 'show', created.id])).stdout, /limits\s+budget \$5\.00\/month, 60 rpm/)

  const updated = json(
    await cli(daveHome, [
      'keys',
      'update',
      created.id,
      '--name',
      'laptop-2',
      '--rpm',
      'none',
      '--tpm',
      '10000',
      '--expires',
      'never',
      '--json',
    ]),
  )
  t.match(updated, { name: 'laptop-2', tpm: 10000, expires: null })
  t.notOk('rpm' in updated)

  const rotated = json(await cli(daveHome, ['keys', 'rotate', created.id, '--grace', '1h', '--json']))
  t.not(rotated.key, created.key)
  t.ok(Date.parse(rotated.graceUntil) > Date.now() + 3_500_000)
  for (const key of [created.key, rotated.key]) {
    t.ok(
      (await new OpenAI({ apiKey: key, baseURL: `${apiUrl}/v1`, maxRetries: 0 }).models.list()).data.length > 0,
      'old and new key during the grace period',
    )
  }
  const revoked = await cli(daveHome, ['keys', 'revoke', created.id])
  t.match(revoked.stdout, /Revoked key/)
  await t.rejects(new OpenAI({ apiKey: rotated.key, baseURL: `${apiUrl}/v1`, maxRetries: 0 }).models.list(), {
    status: 401,
    code: 'revoked_api_key',
  })

  // Readable errors and exit codes.
  const denied = await cli(daveHome, ['users', 'list'])
  t.equal(denied.code, 4, 'not an admin: exit 4')
  t.match(denied.stderr, /pennyworth: This needs membership of the Cognito group 'admin'/)
  const missing = await cli(daveHome, ['keys', 'show', 'aaaaaaaaaaaa'])
  t.equal(missing.code, 5)
  t.match(missing.stderr, /No API key with id/)
  const invalid = await cli(daveHome, ['keys', 'create', '--name', 'x', '--models', 'gpt-17'])
  t.equal(invalid.code, 2)
  t.match(invalid.stderr, /Not in the model catalog: gpt-17/)
  t.equal((await cli(daveHome, ['keys', 'rotate', created.id, '--grace', 'soon'])).code, 2)
  t.equal((await cli(daveHome, ['keys', 'frobnicate'])).code, 2)
  const othersKey = json(await cli(adminHome, ['keys', 'create', '--name', 'admins', '--json']))
  t.equal((await cli(daveHome, ['keys', 'revoke', othersKey.id])).code, 5, "someone else's key is not found")
})

t.test('usage: table and bar chart by default, JSON for scripts; admins see anyone', async (t) => {
  const own = json(await cli(daveHome, ['usage', '--json']))
  t.equal(own.object, 'usage')
  t.ok(own.totals.requests >= 1, 'the chat call was metered')
  const table = await cli(daveHome, ['usage'])
  t.equal(table.code, 0, table.stderr)
  t.match(table.stdout, /DAY\s+REQUESTS\s+INPUT TOKENS\s+OUTPUT TOKENS\s+COST/)
  t.match(table.stdout, /pennyworth-mock/)
  t.match(table.stdout, /Tokens per day:\n(.*│.*\n?)+/, 'bar chart')
  t.match(table.stdout, /█/)
  const monthly = json(await cli(daveHome, ['usage', '--granularity', 'month', '--json']))
  t.equal(monthly.granularity, 'month')

  const forDave = json(await cli(adminHome, ['usage', '--owner', 'dave@example.com', '--json']))
  t.equal(forDave.totals.requests, own.totals.requests)
  const everyone = json(await cli(adminHome, ['usage', '--json']))
  t.ok(everyone.keys.length >= 1)
  t.equal((await cli(daveHome, ['usage', '--owner', cognito.users.admin.sub])).code, 4)
})

t.test('users list and disable (admin)', async (t) => {
  const users = json(await cli(adminHome, ['users', 'list', '--json']))
  t.ok(users.some((u: { email: string }) => u.email === 'dave@example.com'))
  t.match((await cli(adminHome, ['users', 'list'])).stdout, /EMAIL\s+GROUPS\s+ENABLED/)
  const disabled = await cli(adminHome, ['users', 'disable', 'dave@example.com'])
  t.equal(disabled.code, 0, disabled.stderr)
  t.match(disabled.stdout, /Disabled dave@example.com/)
  t.equal(
    json(await cli(adminHome, ['users', 'list', '--json'])).find(
      (u: { email: string }) => u.email === 'dave@example.com',
    ).enabled,
    false,
  )
})

t.test('tokens refresh by themselves; a dead refresh token asks for login; logout forgets', async (t) => {
  const file = join(adminHome, 'credentials.json')
  const before = JSON.parse(readFileSync(file, 'utf8'))
  before.sessions[apiUrl].expiresAt = Date.now() - 1000
  const stale = before.sessions[apiUrl].accessToken
  writeFileSync(file, JSON.stringify(before), { mode: 0o600 })
  t.equal((await cli(adminHome, ['whoami'])).code, 0)
  const after = JSON.parse(readFileSync(file, 'utf8')).sessions[apiUrl]
  t.ok(after.expiresAt > Date.now(), 'refreshed')
  t.not(after.accessToken, stale)
  t.equal(statSync(file).mode & 0o777, 0o600, 'still 0600 after the refresh')

  const broken = homeOf('broken')
  writeFileSync(
    join(broken, 'credentials.json'),
    JSON.stringify({
      current: apiUrl,
      sessions: { [apiUrl]: { ...after, expiresAt: 0, refreshToken: 'not-a-token' } },
    }),
    { mode: 0o644 },
  )
  const dead = await cli(broken, ['keys', 'list'])
  t.equal(dead.code, 3)
  t.match(dead.stderr, /run: pennyworth login/)
  t.equal(statSync(join(broken, 'credentials.json')).mode & 0o777, 0o600, 'a loose file mode is tightened')

  const out = await cli(adminHome, ['logout'])
  t.match(out.stdout, /Signed out of/)
  t.same(JSON.parse(readFileSync(file, 'utf8')).sessions, {})
  const after2 = await cli(adminHome, ['whoami'])
  t.equal(after2.code, 3)
  t.match(after2.stderr, /not signed in to .*; run: pennyworth login/)
})

t.test('TOTP MFA at sign-in', async (t) => {
  const { username, password } = await cognito.createUser('erin@example.com', { group: 'user' })
  const { accessToken } = await cognito.signIn(username, password)
  const { SecretCode } = await cognito.client.send(new AssociateSoftwareTokenCommand({ AccessToken: accessToken }))
  await cognito.client.send(new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: totp(SecretCode!) }))
  await cognito.client.send(
    new SetUserMFAPreferenceCommand({
      AccessToken: accessToken,
      SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
    }),
  )
  const home = homeOf('erin')
  const bad = await cli(home, ['login', '--username', username], `${password}\n000000\n`)
  t.equal(bad.code, 3, 'a wrong code is refused')
  const r = await cli(home, ['login', '--username', username], `${password}\n${totp(SecretCode!)}\n`)
  t.equal(r.code, 0, r.stderr)
  t.match(json(await cli(home, ['whoami', '--json'])), { groups: ['user'] })
})

t.test('gateway choice and unreachable gateways', async (t) => {
  const home = homeOf('none')
  const noUrl = await cli(home, ['whoami'], '', { PENNYWORTH_API_URL: '' })
  t.equal(noUrl.code, 2)
  t.match(noUrl.stderr, /--api-url/)
  const down = await cli(home, ['login', '--api-url', 'http://127.0.0.1:9/v1', '--username', 'x'], 'y\n')
  t.equal(down.code, 1)
  t.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/)
  t.equal((await cli(home, ['login', '--api-url', 'ftp://x'])).code, 2)
})

t.test('the bootstrap path still works without sign-in, next to the running server', async (t) => {
  const r = await cli(homeOf('boot'), ['keys', 'list', '--local', '--json'], '', { PENNYWORTH_DATA_DIR: dataDir })
  t.equal(r.code, 0, r.stderr)
  t.ok(JSON.parse(r.stdout).some((k: { name: string }) => k.name === 'dev'))
  t.notMatch(r.stdout, /secretHash|previousSecretHash/)
})
