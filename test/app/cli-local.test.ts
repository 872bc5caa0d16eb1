/**
 * `pennyworth keys create` with budget and rate-limit flags, run in-process against a local
 * store in a temporary data dir: USD amounts become exact micro-USD, bad values exit 2.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { main } from '../../app/cli/main.js'
import '../helpers/app.js' // silences the SDK's Node 20 warning

const dir = mkdtempSync(join(tmpdir(), 'pw-cli-limits-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const env = { PENNYWORTH_DATA_DIR: dir, PENNYWORTH_LOG_LEVEL: 'silent', USER: 'tester' }

async function cli(...args: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s) }, env)
  return { code, stdout: out.join('\n'), stderr: err.join('\n') }
}

t.test('limits are stored on the key', async (t) => {
  const res = await cli('keys', 'create', '--local', '--json', '--name', 'capped', '--budget-usd', '12.345678', '--soft-budget-usd', '10', '--rpm', '60', '--tpm', '90000')
  t.equal(res.code, 0, res.stderr)
  const created = JSON.parse(res.stdout)
  t.match(created, { name: 'capped', monthlyBudgetMicroUsd: 12_345_678, softBudgetMicroUsd: 10_000_000, rpm: 60, tpm: 90_000 })
  t.notOk('secretHash' in created)
  const human = await cli('keys', 'create', '--local', '--name', 'h', '--budget-usd', '5', '--rpm', '10')
  t.match(human.stdout, /Limits: budget \$5\/month, 10 rpm/)
})

t.test('bad values are usage errors', async (t) => {
  for (const args of [['--budget-usd', '-1'], ['--budget-usd', '1.2345678'], ['--budget-usd', 'ten'], ['--rpm', '0'], ['--tpm', '1.5'],
    ['--budget-usd', '5', '--soft-budget-usd', '6']]) {
    const res = await cli('keys', 'create', '--local', '--name', 'bad', ...args)
    t.equal(res.code, 2, args.join(' '))
  }
})
