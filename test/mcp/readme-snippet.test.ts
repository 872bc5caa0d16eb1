/**
 * docs/mcp.md's agent snippet, taken from the page as written and run as a program against a
 * gateway: the streamed answer lands on stdout on its own, the status line ("Calling …") on
 * stderr. (It used to print the status glued to the answer, with no newline.)
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { startGateway } from '../helpers/app.js'

const readme = readFileSync('docs/mcp.md', 'utf8')
const block = /\*\*Agents\*\* with the MCP TypeScript SDK:\n\n```js\n([\s\S]*?)\n```/.exec(readme)

t.test('the snippet prints the answer alone on stdout, the status on stderr', async (t) => {
  t.ok(block, 'docs/mcp.md has the snippet')
  const gw = await startGateway(t)
  t.match(block![1], 'https://api.example.com/v1/mcp')
  const program = `${block![1].replace('https://api.example.com/v1/mcp', `${gw.url}/v1/mcp`)}
console.error('RESULT ' + JSON.stringify(answer.structuredContent))
await client.close()`
  const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', program],
      {
        env: { PATH: process.env.PATH, PENNYWORTH_API_KEY: gw.key },
        timeout: 30_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
  t.equal(run.code, 0, run.stderr)
  const result = JSON.parse(/^RESULT (.*)$/m.exec(run.stderr)![1])
  t.ok(result.content.length > 0, `answer: ${result.content}`)
  t.equal(run.stdout, `${result.content}\n`, 'stdout is the answer and a newline, nothing glued to it')
  t.match(run.stderr, /^Calling claude-haiku-4-5…$/m, 'the status line on stderr, on its own line')
})
