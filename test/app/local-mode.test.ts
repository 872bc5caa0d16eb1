/**
 * `npm start` as a newcomer runs it: a real child process, an on-disk data dir, the dev key
 * printed once, and the CLI (main() in-process) reaching the running server's store through the
 * data dir, or opening the store itself when no server runs.
 */
import t from 'tap'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import OpenAI from 'openai'
import { runCli } from '../helpers/cli.js'

const run = promisify(execFile)
const dataDir = mkdtempSync(join(tmpdir(), 'pennyworth-local-'))
const env: NodeJS.ProcessEnv = { ...process.env, PENNYWORTH_DATA_DIR: dataDir, PORT: '0', PENNYWORTH_LOG_LEVEL: 'warn' }
delete env.AWS_ENDPOINT_URL_DYNAMODB
// As a newcomer starts it: without the switch that silences the AWS SDK's Node-version warning
// (.ci/run and the test helpers set it); app/server.ts must keep the first screen clean itself.
delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED

async function startServer(): Promise<{ child: ChildProcess; url: string; devKey?: string; output(): string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/server.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    out += d
  })
  const deadline = Date.now() + 30_000
  while (!/listening on (\S+)\/v1/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    child,
    url: /listening on (\S+)\/v1/.exec(out)![1],
    devKey: /^Dev API key: (\S+)$/m.exec(out)?.[1],
    output: () => out,
  }
}

async function stopServer(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM')
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

const cli = (...args: string[]) =>
  runCli(args, { PENNYWORTH_DATA_DIR: dataDir, PENNYWORTH_LOG_LEVEL: 'silent', USER: 'newcomer' })

t.test('first start mints and prints a dev key; the gateway answers offline', async (t) => {
  const first = await startServer()
  t.teardown(() => {
    if (first.child.exitCode === null) first.child.kill('SIGKILL')
  })
  t.match(first.devKey, /^pw-[a-z2-9]{12}-/)
  const client = new OpenAI({ apiKey: first.devKey!, baseURL: `${first.url}/v1`, maxRetries: 0 })
  const res = await client.chat.completions.create({
    model: 'pennyworth-mock',
    messages: [{ role: 'user', content: 'offline?' }],
  })
  t.equal(res.choices[0].message.content, 'You said: offline?')
  t.notMatch(first.output(), /Warning/, 'the first screen has no AWS SDK Node-version warning (nor any other)')

  // The console sign-in link: its token buys one local admin session for the admin API.
  const link = new RegExp(`^Console: (${first.url}/console/#login=(pwl-[A-Za-z0-9_-]{43}))$`, 'm').exec(first.output())
  t.ok(link, 'a one-time console link is printed')
  const exchange = () =>
    fetch(`${first.url}/console/local-session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: link![2] }),
    })
  const session = await exchange()
  t.equal(session.status, 200)
  const { token } = (await session.json()) as { token: string }
  const me = await fetch(`${first.url}/v1/admin/me`, { headers: { authorization: `Bearer ${token}` } })
  t.same(await me.json(), { sub: 'local', username: 'local-admin', groups: ['admin'], admin: true })
  t.equal((await exchange()).status, 401, 'the link works once')
  t.match(first.output(), /^Console \(new sign-in link\): \S+#login=pwl-/m, 'a fresh link is printed for the next try')

  // The CLI reaches the running server's store through the hand-over file.
  const created = await cli(
    'keys',
    'create',
    '--local',
    '--name',
    'ci',
    '--models',
    'pennyworth-mock',
    '--expires',
    '30d',
    '--json',
  )
  const key = JSON.parse(created.stdout)
  t.match(key.key, /^pw-/)
  t.notOk('secretHash' in key, 'the hash is not printed')
  const listed = JSON.parse((await cli('keys', 'list', '--local', '--json')).stdout)
  t.same(listed.map((k: { name: string }) => k.name).sort(), ['ci', 'dev'])
  const limited = new OpenAI({ apiKey: key.key, baseURL: `${first.url}/v1`, maxRetries: 0 })
  t.same(
    (await limited.models.list()).data.map((m) => m.id),
    ['pennyworth-mock'],
  )
  const revoked = await cli('keys', 'revoke', key.id, '--local')
  t.match(revoked.stdout, /Revoked key/)
  t.equal(await stopServer(first.child), 0, 'graceful exit on SIGTERM')

  // Second start: same data, no new dev key; the first key still works.
  const second = await startServer()
  t.teardown(() => {
    if (second.child.exitCode === null) second.child.kill('SIGKILL')
  })
  t.equal(second.devKey, undefined, 'printed once only')
  const again = new OpenAI({ apiKey: first.devKey!, baseURL: `${second.url}/v1`, maxRetries: 0 })
  t.ok((await again.models.list()).data.length > 0, 'keys persist on disk')
  await t.rejects(new OpenAI({ apiKey: key.key, baseURL: `${second.url}/v1`, maxRetries: 0 }).models.list(), {
    status: 401,
    code: 'revoked_api_key',
  })
  await stopServer(second.child)

  // With no server running, the CLI opens the data dir itself.
  const offline = JSON.parse((await cli('keys', 'list', '--local', '--json')).stdout)
  t.equal(offline.find((k: { name: string }) => k.name === 'ci').status, 'revoked')
})

t.test('a bad configuration stops start-up naming the variable', async (t) => {
  const res = await run(process.execPath, ['--import', 'tsx', 'app/server.ts'], { env: { ...env, PORT: 'abc' } }).catch(
    (e) => e,
  )
  t.equal(res.code, 1)
  t.match(res.stderr, /PORT must be a whole number/)
})
