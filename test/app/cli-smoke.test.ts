/**
 * The `pennyworth` command as a process, once: bin.js registers tsx, runs main() with the real
 * argv, stdio and environment, and exits with its code; its first screen is clean (no AWS SDK
 * Node-version warning). Every other CLI test calls main() in-process (test/helpers/cli.ts).
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dir = mkdtempSync(join(tmpdir(), 'pw-cli-smoke-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function bin(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  // A newcomer's environment: no test switches, nothing pointing at AWS.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, PENNYWORTH_DATA_DIR: dir, USER: 'smoke' }
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['app/cli/bin.js', ...args],
      { env, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
    child.stdin!.end(input)
  })
}

t.test('bin.js: a command through the store, its output, its exit code', async (t) => {
  const created = await bin(['keys', 'create', '--local', '--name', 'smoke', '--json'])
  t.equal(created.code, 0, created.stderr)
  t.match(JSON.parse(created.stdout), { name: 'smoke', owner: 'smoke', key: /^pw-/ })
  const missing = await bin(['keys', 'revoke', 'nokey2345678', '--local'])
  t.equal(missing.code, 5, 'the exit code reaches the shell')
  t.equal(
    missing.stderr,
    'pennyworth: No API key with id nokey2345678.\n',
    'one line: no AWS SDK Node-version warning before it',
  )
  t.equal(
    created.stderr,
    '',
    'nothing on stderr, although the DynamoDB client ran (the SDK warns on Node 20 unless told not to)',
  )
})
