/**
 * The web console in real headless Chromium (Debian's `chromium`, driven by playwright-core; no
 * browser download). The test builds the console itself, starts `npm start`'s server in-process
 * (embedded store, mock model priced by a test catalog, cognito-local for the Users page) and
 * walks it as a person would: sign in with the local link, create a key (secret shown once),
 * call /v1/chat/completions with it through the `openai` client, see the call in the usage
 * chart, download the CSV, rotate, revoke, add and disable a user, read the audit trail, the
 * Connect page; keyboard-only use of the key dialog; phone width. Any console error, page error
 * or CSP violation fails it (the detector is itself checked by a planted violation). One
 * screenshot per page goes to test-output/console/ (gitignored).
 */
import t, { type Test } from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import OpenAI from 'openai'
import { chromium, type Browser, type Page } from 'playwright-core'
import { buildConsole } from '../../scripts/build-console.js'
import { loadConfig } from '../../app/config.js'
import { startLocalServer, type LocalServer } from '../../app/server.js'
import { startCognito } from '../helpers/cognito.js'

/** Debian's chromium (what .ci/run installs), else the browsers CI images ship. */
const CHROMIUM =
  process.env.PENNYWORTH_CHROMIUM ??
  ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p)) ??
  '/usr/bin/chromium'
const SHOTS = resolve('test-output/console')
const STEP_MS = 15_000

if (!existsSync(CHROMIUM)) {
  // CI installs it (.ci/run); a developer without it gets one clear failure, not a silent skip.
  t.fail(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set PENNYWORTH_CHROMIUM)`)
  process.exit(1)
}
mkdirSync(SHOTS, { recursive: true })

// --- the gateway --------------------------------------------------------------------------------
const cognito = await startCognito(t)
const consoleDir = (await buildConsole({ outdir: mkdtempSync(join(tmpdir(), 'pennyworth-console-')) })).outdir
// The mock model with a price, so cost charts and budget bars have something to show.
const catalog = JSON.parse(readFileSync('app/catalog/default.json', 'utf8'))
for (const m of catalog.models) if (m.id === 'pennyworth-mock') m.pricing = { inputPerMTok: 1000, outputPerMTok: 2000 }
const catalogPath = join(mkdtempSync(join(tmpdir(), 'pennyworth-catalog-')), 'catalog.json')
writeFileSync(catalogPath, JSON.stringify(catalog))

Object.assign(process.env, {
  AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: cognito.endpoint,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
})
delete process.env.AWS_ENDPOINT_URL_DYNAMODB
const config = loadConfig(
  {
    ...cognito.env,
    PENNYWORTH_DATA_DIR: mkdtempSync(join(tmpdir(), 'pennyworth-console-data-')),
    PORT: '0',
    PENNYWORTH_LOG_LEVEL: 'silent',
    PENNYWORTH_CATALOG: catalogPath,
    // A rotated or revoked secret fails at once (no per-instance key cache in between).
    PENNYWORTH_KEY_CACHE_TTL_MS: '0',
  },
  { mockModels: true, lambdaStreaming: false },
)
const staleLinks: string[] = []
const server: LocalServer = await startLocalServer(config, process.env, {
  consoleDir,
  onStaleLink: (link) => staleLinks.push(link),
})
t.teardown(() => server.close())

// --- the browser ----------------------------------------------------------------------------------
const browser: Browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  timeout: 30_000,
})
t.teardown(() => browser.close())
const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true })
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url })
context.setDefaultTimeout(STEP_MS)

/** Every console error, uncaught page error and CSP violation, per page. */
const problems: string[] = []
async function watch(page: Page): Promise<Page> {
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  await page.exposeFunction('__cspViolation', (what: string) => problems.push(`csp: ${what}`))
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as unknown as { __cspViolation(s: string): void }).__cspViolation(
        `${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`,
      ),
    )
  })
  return page
}
const page = await watch(await context.newPage())
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
const text = (selector: string) => page.locator(selector).innerText()
/** POST with a chosen Host header (fetch cannot set one). */
function post(url: string, host: string, body: unknown): Promise<{ status: number; json: any }> {
  return new Promise((ok, fail) => {
    const req = request(url, { method: 'POST', headers: { host, 'content-type': 'application/json' } }, (res) => {
      let data = ''
      res.on('data', (d) => {
        data += d
      })
      res.on('end', () => ok({ status: res.statusCode!, json: JSON.parse(data) }))
    })
    req.on('error', fail)
    req.end(JSON.stringify(body))
  })
}
const openai = (key: string) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 })
/** The HTTP status a call with `key` fails with (undefined if it works). */
const refusal = (key: string) =>
  chat(key).then(
    () => undefined,
    (e: { status?: number }) => e.status,
  )
const chat = (key: string) =>
  openai(key).chat.completions.create({ model: 'pennyworth-mock', messages: [{ role: 'user', content: 'hello' }] })

/** A step of the walk; it also fails on any problem the browser reported meanwhile. */
let broken = ''
function step(name: string, fn: (t: Test) => Promise<void>): void {
  t.test(name, async (t) => {
    // Each step builds on the one before: after a failure the rest would only time out.
    if (broken) return void t.comment(`not run: "${broken}" failed`)
    await fn(t)
    t.same(problems, [], 'no console error, page error or CSP violation')
    problems.length = 0
    if (!t.passing()) broken = name
  })
}

let secret = ''
let keyId = ''

step('the page is served with a strict CSP and hashed, long-cached assets', async (t) => {
  const res = await fetch(`${server.url}/console/`)
  t.equal(res.status, 200)
  const csp = res.headers.get('content-security-policy') ?? ''
  t.match(csp, /default-src 'none'/)
  t.match(csp, /script-src 'self'(;|$)/, 'scripts from this origin only: no inline, no eval')
  t.match(csp, /frame-ancestors 'none'/)
  t.notMatch(csp, /https?:\/\//, 'no third-party origin (local mode)')
  t.equal(res.headers.get('cache-control'), 'no-cache')
  const html = await res.text()
  t.notMatch(html, /<script>|<script(?![^>]*\bsrc=)[^>]*>|\bon[a-z]+=/i, 'no inline script or handler')
  const js = /src="assets\/(main-[A-Z0-9]+\.js)"/.exec(html)?.[1]
  t.ok(js, 'hashed script name')
  const asset = await fetch(`${server.url}/console/assets/${js}`)
  t.equal(asset.status, 200)
  t.match(asset.headers.get('cache-control'), /max-age=31536000, immutable/)
  t.match(asset.headers.get('content-type'), /text\/javascript/)
  t.equal((await fetch(`${server.url}/console/assets/..%2F..%2Fpackage.json`)).status, 404, 'no path climbing')
})

step('the CSP detector itself sees a planted inline script', async (t) => {
  await page.goto(`${server.url}/console/`)
  await page.locator('text=Open the sign-in link').waitFor()
  await page.evaluate(() => {
    const s = document.createElement('script')
    s.textContent = 'window.planted = 1'
    document.body.append(s)
  })
  await page.waitForFunction(() => true)
  await new Promise((r) => setTimeout(r, 200))
  t.ok(
    problems.some((p) => p.startsWith('csp: script-src')),
    `planted inline script reported: ${problems.join(' | ')}`,
  )
  t.equal(await page.evaluate(() => (window as unknown as { planted?: number }).planted), undefined, 'and blocked')
  problems.length = 0
})

step('sign in with the local link; the link works once', async (t) => {
  const link = server.consoleLink()!
  t.match(link, /^http:\/\/127\.0\.0\.1:\d+\/console\/#login=pwl-[A-Za-z0-9_-]{43}$/)
  await page.goto(link)
  await page.locator('#whoami').waitFor()
  t.equal(await text('#whoami'), 'local-admin (admin)')
  t.notMatch(page.url(), /login=/, 'the token left the address bar')
  t.equal(
    await page
      .locator('nav a')
      .allInnerTexts()
      .then((a) => a.join(',')),
    'Keys,Usage,Users,Audit,Connect',
  )

  // The same link again, in another tab: refused, and the terminal gets a fresh one.
  const again = await context.newPage()
  await again.goto(link)
  await again.locator('[role=alert]').waitFor()
  t.match(await again.locator('[role=alert]').innerText(), /already used or has expired/)
  await again.close()
  problems.length = 0 // the refused exchange is a 401 the browser logs as a failed request
  t.equal(staleLinks.length, 1, 'a fresh link was offered to the terminal')
  t.match(staleLinks[0], /#login=pwl-/)

  // From anywhere but a loopback Host the exchange is refused.
  const refused = await post(`${server.url}/console/local-session`, 'evil.example', {
    login: server.consoleLink()!.split('#login=')[1],
  })
  t.equal(refused.status, 403, 'a foreign Host (DNS rebinding) is refused')
  t.equal(refused.json.error.code, 'not_loopback')
})

step('create a key: the secret is shown once, then the key works with the openai client', async (t) => {
  await page.locator('#keys-table').or(page.getByText('No keys yet.')).waitFor()
  await shot('keys')
  await page.click('#create-key')
  const dialog = page.locator('dialog[open]')
  await dialog.locator('input[name=name]').fill('browser-test')
  await dialog.locator('input[name=models]').fill('pennyworth-mock')
  await dialog.locator('input[name=budget]').fill('5')
  await dialog.locator('button[type=submit]').click()
  await page.locator('#new-secret').waitFor()
  secret = await text('#new-secret')
  t.match(secret, /^pw-[a-z2-9]{12}-[A-Za-z0-9_-]{43}$/)
  keyId = secret.split('-')[1]!
  await shot('key-secret')
  await dialog.locator('button.copy').click()
  await page.locator('.copy-state', { hasText: 'Copied' }).waitFor()
  t.equal(await page.evaluate(() => navigator.clipboard.readText()), secret, 'copy button put the key on the clipboard')
  await dialog.locator('button', { hasText: 'Done' }).click()
  await page.locator('dialog[open]').waitFor({ state: 'detached' })
  // The secret part (after `pw-<id>-`; it may itself contain '-').
  const secretPart = secret.slice(`pw-${keyId}-`.length)
  t.equal(secretPart.length, 43)
  t.notOk((await page.content()).includes(secretPart), 'the secret is gone from the page')
  const row = page.locator(`tr[data-key-id="${keyId}"]`)
  await row.waitFor()
  t.match(await row.innerText(), /browser-test[\s\S]*active[\s\S]*pennyworth-mock/)
  t.equal(await row.locator('meter').count(), 1, 'budget bar')

  const answer = await chat(secret)
  t.ok(answer.choices[0]?.message.content, 'the mock model answered through the new key')
  t.ok(answer.usage!.prompt_tokens > 0)
})

step('the call appears in the usage charts and tables; CSV download', async (t) => {
  await page.click('nav a[href="#/usage"]')
  await page.locator('#tokens-chart canvas').waitFor()
  // Metering is durable before the answer leaves; reports fold what is settled when they read.
  const total = await page.locator('#tokens-chart').getAttribute('data-total')
  t.ok(Number(total) > 0, `tokens chart total ${total}`)
  t.ok(Number(await page.locator('#cost-chart').getAttribute('data-total')) > 0, 'cost chart has the call')
  t.match(await text('#models-table'), /pennyworth-mock\s+1\s/)
  t.match(await text('#keys-usage-table'), /browser-test/)
  t.match(await text('#mtd'), /1 requests/)
  await shot('usage')
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')])
  const csv = readFileSync((await download.path())!, 'utf8')
  t.match(csv.split('\n')[0], /^day,model,requests,/)
  t.match(csv, /\d{4}-\d{2}-\d{2},"pennyworth-mock",1,/)
  // One key selected: the charts are that key's.
  await page.selectOption('select[name=key]', keyId)
  await page.click('form.filters button[type=submit]')
  await page.locator('#usage-summary', { hasText: 'browser-test' }).waitFor()
  t.match(await text('#usage-summary'), /1\s+requests/)
})

step('rotate with no grace: the new secret works, the old one stops; then revoke', async (t) => {
  await page.click('nav a[href="#/keys"]')
  const row = page.locator(`tr[data-key-id="${keyId}"]`)
  await row.locator('button', { hasText: 'Rotate' }).click()
  await page.selectOption('dialog[open] select[name=grace]', '0')
  await page.click('dialog[open] button[type=submit]')
  await page.locator('#new-secret').waitFor()
  const rotated = await text('#new-secret')
  t.match(rotated, new RegExp(`^pw-${keyId}-`), 'same key id')
  t.not(rotated, secret)
  await page.click('dialog[open] button:has-text("Done")')
  t.ok((await chat(rotated)).choices[0], 'the rotated secret works')
  t.equal(await refusal(secret), 401, 'the old secret stopped')

  await row.locator('button', { hasText: 'Revoke' }).click()
  const dialog = page.locator('dialog[open]')
  // Focus moves when the dialog's effect runs (after paint): wait for it, briefly.
  const cancelFocused = await page
    .waitForFunction(() => document.activeElement?.textContent?.trim() === 'Cancel', null, { timeout: 3_000 })
    .then(
      () => true,
      () => false,
    )
  t.ok(cancelFocused, 'the safe choice, Cancel, has the focus')
  await shot('key-revoke')
  await dialog.locator('button', { hasText: 'Revoke key' }).click()
  await row.waitFor({ state: 'detached' })
  await page.check('text=Show revoked keys')
  t.match(await row.innerText(), /revoked/)
  t.equal(await refusal(rotated), 401, 'a revoked key is refused')
})

step('keyboard only: open the key dialog, create, copy, close, Escape', async (t) => {
  await page.reload()
  // A reload forgets the in-memory session: sign in again with a fresh link.
  await page.locator('text=Open the sign-in link').waitFor()
  await page.goto(server.consoleLink()!)
  await page.locator('#create-key').waitFor()
  const focused = () =>
    page.evaluate(() => {
      const a = document.activeElement as HTMLElement | null
      return a ? `${a.tagName.toLowerCase()}#${a.id}|${a.getAttribute('name') ?? ''}|${a.textContent?.trim()}` : ''
    })
  /** The focused element once it matches `re` (focus moves in effects, after paint), or after 3 s. */
  const focusOn = async (re: RegExp) => {
    const until = Date.now() + 3_000
    let now = await focused()
    while (!re.test(now) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 25))
      now = await focused()
    }
    return now
  }
  let steps = 0
  while (!(await focused()).startsWith('button#create-key') && steps++ < 40) await page.keyboard.press('Tab')
  t.ok(steps < 40, `reached "Create key" with ${steps} Tab presses`)
  await page.keyboard.press('Enter')
  await page.locator('dialog[open]').waitFor()
  t.match(await focusOn(/^input#\|name\|/), /^input#\|name\|/, 'the name field has the focus')
  await page.keyboard.type('keyboard-key')
  await page.keyboard.press('Tab')
  t.match(await focusOn(/^input#\|models\|/), /^input#\|models\|/)
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab')
    const inDialog = await page.evaluate(
      () => document.activeElement === document.body || !!document.activeElement?.closest('dialog'),
    )
    t.ok(inDialog, `Tab ${i + 1} stays inside the modal dialog`)
  }
  await page.locator('dialog[open] input[name=name]').focus()
  await page.keyboard.press('Enter')
  await page.locator('#new-secret').waitFor()
  t.match(await focusOn(/^button#\|\|Copy key/), /^button#\|\|Copy key/, 'the copy button has the focus')
  await page.keyboard.press('Enter')
  await page.locator('.copy-state', { hasText: 'Copied' }).waitFor()
  await page.keyboard.press('Tab')
  t.match(await focusOn(/\|Done$/), /\|Done$/)
  await page.keyboard.press('Enter')
  await page.locator('dialog[open]').waitFor({ state: 'detached' })
  t.match(await focusOn(/^button#create-key/), /^button#create-key/, 'focus is back on the opener')
  await page.keyboard.press('Enter')
  await page.locator('dialog[open]').waitFor()
  await page.keyboard.press('Escape')
  await page.locator('dialog[open]').waitFor({ state: 'detached' })
  t.match(await focusOn(/^button#create-key/), /^button#create-key/, 'Escape closes it, focus back on the opener')
  t.match(await text('#keys-table'), /keyboard-key/)
})

step('an admin adds and disables a user; the audit page shows it', async (t) => {
  await page.click('nav a[href="#/users"]')
  await page.locator('#users-table').waitFor()
  await page.click('#add-user')
  await page.fill('dialog[open] input[name=email]', 'dave@example.com')
  await page.selectOption('dialog[open] select[name=group]', 'user')
  await page.fill('dialog[open] input[name=password]', 'Temporary-Pass-123!')
  await page.uncheck('dialog[open] input[name=invite]')
  await page.click('dialog[open] button[type=submit]')
  const dave = page.locator('tr[data-user="dave@example.com"]')
  await dave.waitFor()
  t.match(await dave.innerText(), /user[\s\S]*enabled/)
  await dave.locator('button', { hasText: 'Disable' }).click()
  await page.click('dialog[open] button:has-text("Disable user")')
  await dave.locator('.badge', { hasText: 'disabled' }).waitFor()
  await shot('users')
  const listed = await cognito.client.send(
    new (await import('@aws-sdk/client-cognito-identity-provider')).AdminGetUserCommand({
      UserPoolId: cognito.userPoolId,
      Username: 'dave@example.com',
    }),
  )
  t.equal(listed.Enabled, false, 'disabled in the pool')

  await page.click('nav a[href="#/audit"]')
  await page.locator('#audit-table').waitFor()
  const actions = await page
    .locator('#audit-table tbody tr')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')))
  for (const a of ['user.disable', 'user.create', 'key.revoke', 'key.rotate', 'key.create'])
    t.ok(actions.includes(a), `audit shows ${a}`)
  await page.selectOption('#audit-action', 'user.disable')
  const rows = page.locator('#audit-table tbody tr')
  t.equal(await rows.count(), 1)
  t.match(await rows.first().innerText(), /local-admin\s+user\.disable/)
  await page.fill('#audit-text', 'no-such-thing')
  t.equal(await rows.count(), 0, 'text filter')
  await page.fill('#audit-text', '')
  await page.selectOption('#audit-action', '')
  await shot('audit')
})

step('Connect: settings filled with the gateway URL', async (t) => {
  await page.click('nav a[href="#/connect"]')
  await page.locator('#gateway-url').waitFor()
  t.equal(await text('#gateway-url'), server.url)
  t.match(await text('#snippet-claude-code'), new RegExp(`ANTHROPIC_BASE_URL=${server.url}\\n`))
  t.match(await text('#snippet-codex'), new RegExp(`base_url = "${server.url}/v1"`))
  t.match(await text('#snippet-mcp-vscode'), new RegExp(`"url": "${server.url}/v1/mcp"`))
  for (const id of ['cursor', 'continue', 'openai-js', 'openai-py', 'mcp-cursor', 'mcp-claude-desktop'])
    t.equal(await page.locator(`#snippet-${id}`).count(), 1, id)
  await shot('connect')
})

step('phone width: nothing wider than the screen', async (t) => {
  await page.setViewportSize({ width: 390, height: 844 })
  for (const p of ['keys', 'usage', 'users', 'audit', 'connect']) {
    await page.click(`nav a[href="#/${p}"]`)
    await page.locator('#page-title').waitFor()
    await page.waitForLoadState('networkidle')
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    t.ok(overflow <= 0, `${p}: page is ${overflow}px wider than the screen`)
    await shot(`phone-${p}`)
  }
})

step('sign out ends the local session on the server too', async (t) => {
  await page.setViewportSize({ width: 1280, height: 860 })
  const [ended] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/console/local-session') && r.request().method() === 'DELETE'),
    page.click('#sign-out'),
  ])
  t.equal(ended.status(), 204)
  await page.locator('main.signin [role=status]', { hasText: 'Signed out.' }).waitFor()
  await shot('signed-out')
})
