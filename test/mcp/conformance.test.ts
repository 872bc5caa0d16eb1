/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.13, the last release
 * that runs on Node 20) against /v1/mcp of a running gateway. Every server scenario runs (~5 s);
 * the ones that do not apply to pennyworth are listed with the reason in
 * conformance-expected-failures.json. A scenario outside the list must pass, and one inside it
 * must still fail (a stale entry fails the test, as the suite's own baseline check does).
 *
 * The suite cannot send headers, and /v1/mcp is never opened without a key: a small proxy on
 * 127.0.0.1 adds `Authorization: Bearer <key>` and forwards everything else as it came
 * (the Host and Origin headers too, which the DNS-rebinding scenario depends on).
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startGateway } from '../helpers/app.js'

const here = dirname(fileURLToPath(import.meta.url))
const expected: Record<string, string> = JSON.parse(
  readFileSync(join(here, 'conformance-expected-failures.json'), 'utf8'),
)
const pkgDir = resolve('node_modules/@modelcontextprotocol/conformance')
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
  version: string
  bin: { conformance: string }
}
const cli = join(pkgDir, pkg.bin.conformance)

/** Scenarios every MCP server must pass: none of them may ever be excused. */
const REQUIRED = ['server-initialize', 'ping', 'tools-list', 'logging-set-level', 'dns-rebinding-protection']

const gw = await startGateway(t)
const upstream = new URL(gw.url)
const proxy = http.createServer((req, res) => {
  const forward = http.request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, authorization: `Bearer ${gw.key}` },
    },
    (answer) => {
      res.writeHead(answer.statusCode!, answer.headers)
      answer.pipe(res)
    },
  )
  forward.on('error', () => res.destroy())
  req.pipe(forward)
})
await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok))
t.teardown(() => {
  proxy.closeAllConnections()
  proxy.close()
})
const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}/v1/mcp`

interface Check {
  id: string
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED'
  errorMessage?: string
  details?: unknown
}

t.test(`conformance ${pkg.version}: every applicable server scenario passes`, async (t) => {
  t.equal(pkg.version, '0.1.13', 'the pinned suite (≥ 0.1.14 needs Node 22)')
  const out = mkdtempSync(join(tmpdir(), 'pennyworth-conformance-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  // The suite's own baseline format (YAML), from the same list.
  const baseline = join(out, 'expected-failures.yml')
  writeFileSync(
    baseline,
    `server:\n${Object.keys(expected)
      .map((s) => `  - ${s}`)
      .join('\n')}\n`,
  )

  const started = Date.now()
  const { code, output } = await new Promise<{ code: number | null; output: string }>((ok) => {
    const child = spawn(
      process.execPath,
      [cli, 'server', '--url', url, '--suite', 'all', '--expected-failures', baseline, '-o', join(out, 'results')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    child.stdout.on('data', (d) => {
      output += d
    })
    child.stderr.on('data', (d) => {
      output += d
    })
    child.on('close', (code) => ok({ code, output }))
  })
  t.comment(`suite ran in ${Date.now() - started} ms`)

  // Results: results/server-<scenario>-<ISO time>/checks.json
  const results = new Map<string, Check[]>()
  for (const dir of readdirSync(join(out, 'results'))) {
    const scenario = dir.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '')
    results.set(scenario, JSON.parse(readFileSync(join(out, 'results', dir, 'checks.json'), 'utf8')))
  }
  t.ok(results.size >= 30, `${results.size} scenarios ran`)
  for (const scenario of Object.keys(expected))
    t.ok(results.has(scenario), `expected-failures entry '${scenario}' is a scenario of the suite`)
  for (const scenario of REQUIRED) {
    t.ok(results.has(scenario), `${scenario} ran`)
    t.notOk(scenario in expected, `${scenario} is never excused`)
  }

  for (const [scenario, checks] of [...results].sort()) {
    // The suite's rule: a scenario fails on any FAILURE or WARNING check.
    const problems = checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')
    if (scenario in expected) {
      t.ok(problems.length > 0, `${scenario}: does not apply (${expected[scenario]})`)
    } else {
      t.same(
        problems.map((c) => `${c.id}: ${c.errorMessage ?? c.status}`),
        [],
        `${scenario}: passes (${checks.filter((c) => c.status === 'SUCCESS').length} checks)`,
      )
    }
  }
  t.equal(code, 0, "the suite's own baseline check passes", { output: code === 0 ? undefined : output })
})
