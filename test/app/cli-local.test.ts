/**
 * The CLI's bootstrap path (`keys … --local`) in-process against a local store in a temporary
 * data dir, and the command line's own rules: USD amounts become exact micro-USD, bad values and
 * unknown commands exit 2 with one line pointing at --help, an unknown key exits 5, commands the
 * local store cannot run say so, and times print the same way in every column.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { HELP_POINTER, USAGE } from '../../app/cli/main.js'
import { json, runCli } from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'pw-cli-local-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const env = {
  PENNYWORTH_DATA_DIR: dir,
  PENNYWORTH_LOG_LEVEL: 'silent',
  USER: 'tester',
  PENNYWORTH_HOME: join(dir, 'home'),
}
const cli = (...args: string[]) => runCli(args, env)

const ISO_SECOND = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/

t.test('limits are stored on the key', async (t) => {
  const created = json(
    await cli(
      'keys',
      'create',
      '--local',
      '--json',
      '--name',
      'capped',
      '--budget-usd',
      '12.345678',
      '--soft-budget-usd',
      '10',
      '--rpm',
      '60',
      '--tpm',
      '90000',
    ),
  )
  t.match(created, {
    name: 'capped',
    owner: 'tester',
    monthlyBudgetMicroUsd: 12_345_678,
    softBudgetMicroUsd: 10_000_000,
    rpm: 60,
    tpm: 90_000,
  })
  t.notOk('secretHash' in created)
  const human = await cli('keys', 'create', '--local', '--name', 'h', '--budget-usd', '5', '--rpm', '10')
  t.equal(human.code, 0, human.stderr)
  t.match(
    human.stdout,
    /^Created key [a-z2-9]{12} \(h\) for tester; models: \*; expires: never; limits: budget \$5\.00\/month, 10 rpm$/m,
  )
  t.match(human.stdout, /^API key \(shown once, store it now\): pw-/m)
})

t.test('bad values are usage errors: the error, then one line pointing at --help', async (t) => {
  for (const args of [
    ['--budget-usd', '-1'],
    ['--budget-usd', '1.2345678'],
    ['--budget-usd', 'ten'],
    ['--rpm', '0'],
    ['--tpm', '1.5'],
    ['--budget-usd', '5', '--soft-budget-usd', '6'],
    ['--expires', 'yesterday'],
    ['--models', 'gpt-17'],
  ]) {
    const res = await cli('keys', 'create', '--local', '--name', 'bad', ...args)
    t.equal(res.code, 2, args.join(' '))
    t.equal(res.stdout, '', 'nothing on stdout')
    const lines = res.stderr.split('\n')
    t.equal(lines.length, 2, `${args.join(' ')}: two lines, not the whole help`)
    t.match(lines[0], /^pennyworth: --|^pennyworth: .*budget/)
    t.equal(lines[1], HELP_POINTER)
  }
  for (const args of [
    ['frobnicate'],
    ['keys'],
    ['keys', 'frobnicate'],
    ['--no-such-flag'],
    ['whoami', 'extra'],
    ['keys', 'create', '--local'],
  ]) {
    const res = await cli(...args)
    t.equal(res.code, 2, args.join(' '))
    t.same(res.stderr.split('\n').slice(1), [HELP_POINTER], `${args.join(' ')}: ${res.stderr}`)
  }
  const help = await cli('--help')
  t.equal(help.code, 0)
  t.equal(help.stdout, USAGE, '--help prints the whole help on stdout')
  const none = await cli()
  t.equal(none.code, 2, 'no command at all: the help, on stderr, exit 2')
  t.equal(none.stderr, USAGE)
})

t.test('an unknown key is "not found": exit 5', async (t) => {
  const res = await cli('keys', 'revoke', 'nokey2345678', '--local')
  t.equal(res.code, 5)
  t.equal(res.stderr, 'pennyworth: No API key with id nokey2345678.')
})

t.test('commands the local store cannot run say so', async (t) => {
  for (const args of [
    ['keys', 'show', 'x'],
    ['keys', 'rotate', 'x'],
    ['keys', 'update', 'x', '--rpm', '5'],
  ]) {
    for (const flag of ['--local', '--direct']) {
      const res = await cli(...args, flag)
      t.equal(res.code, 2, `${args.join(' ')} ${flag}`)
      t.match(
        res.stderr,
        new RegExp(`^pennyworth: keys ${args[1]} does not work with ${flag}: only keys create, list, revoke do`),
      )
    }
  }
  for (const group of ['usage', 'whoami', 'login', 'logout', 'users']) {
    const res = await cli(group, '--local')
    t.equal(res.code, 2, group)
    t.match(
      res.stderr,
      new RegExp(`^pennyworth: ${group} does not work with --local: only keys create, list and revoke do`),
      group,
    )
  }
})

t.test('times look the same in every column and message', async (t) => {
  const created = json(
    await cli('keys', 'create', '--local', '--json', '--name', 'dated', '--expires', '2099-01-02T03:04:05.678Z'),
  )
  const human = await cli('keys', 'create', '--local', '--name', 'dated2', '--expires', '2099-01-02T03:04:05.678Z')
  t.match(human.stdout, /expires: 2099-01-02T03:04:05Z;/)
  const listing = (await cli('keys', 'list', '--local')).stdout.split('\n')
  const header = listing[0].split(/\s{2,}/)
  t.same(header, ['ID', 'NAME', 'OWNER', 'STATUS', 'MODELS', 'CREATED', 'EXPIRES', 'LIMITS'])
  const row = listing.find((l) => l.startsWith(created.id))!.split(/\s{2,}/)
  t.match(row[header.indexOf('CREATED')], ISO_SECOND)
  t.equal(row[header.indexOf('EXPIRES')], '2099-01-02T03:04:05Z')
  const revoked = await cli('keys', 'revoke', created.id, '--local')
  t.match(
    revoked.stdout,
    new RegExp(`^Revoked key ${created.id} \\(dated\\)\\. Running gateways stop accepting it within \\d+ s\\.$`),
  )
})
