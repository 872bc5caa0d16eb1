/** The 120-column house rule: what it catches and what it leaves alone. */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { isChecked, longLines, MAX_LINE } from '../../scripts/check-line-length.js'

const long = 'x'.repeat(MAX_LINE + 1)

t.test('a line over the limit is reported with its place and length', async (t) => {
  t.same(longLines('app/a.ts', `ok\n${long}\n`), [{ file: 'app/a.ts', line: 2, length: MAX_LINE + 1 }])
  t.same(longLines('app/a.ts', 'x'.repeat(MAX_LINE)), [], 'exactly the limit is fine')
  t.same(longLines('README.md', `${'é'.repeat(MAX_LINE)}\r\n`), [], 'code points, not bytes; CRLF ignored')
})

t.test('exemptions: markdown table rows, URLs, fixtures and generated files', async (t) => {
  t.same(longLines('docs/a.md', `| a | ${long} |`), [], 'markdown table row')
  t.equal(longLines('app/a.ts', `| a | ${long} |`).length, 1, 'a table row only counts in markdown')
  t.same(longLines('app/a.ts', `// see https://example.com/${long}`), [], 'a line holding a URL')
  t.notOk(isChecked('test/fixtures/x.json'))
  t.notOk(isChecked('package-lock.json'))
  t.notOk(isChecked('LICENSE'))
  t.ok(isChecked('infra/README.md'))
  t.ok(isChecked('.github/workflows/deploy.yml'))
})

t.test('the tracked tree is clean, and a planted long line fails the command', async (t) => {
  const run = (args: string[]) => {
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'scripts/check-line-length.ts', ...args], {
        encoding: 'utf8',
        stdio: 'pipe',
      })
      return { code: 0, stderr: '' }
    } catch (err) {
      const e = err as { status: number; stderr: string }
      return { code: e.status, stderr: e.stderr }
    }
  }
  t.equal(run([]).code, 0, 'no tracked file breaks the rule')
  const dir = t.testdir({ 'planted.ts': `export const s = '${long}'\n` })
  const planted = run([`${dir}/planted.ts`])
  t.equal(planted.code, 1)
  t.match(planted.stderr, new RegExp(`planted\\.ts:1: ${MAX_LINE + 20} characters`))
})
