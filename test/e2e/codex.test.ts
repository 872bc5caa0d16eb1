/**
 * OpenAI Codex CLI itself (@openai/codex from npm, its native linux binary) through the gateway:
 * `codex exec` with a CODEX_HOME whose config.toml points a `pennyworth` model provider at the
 * gateway (`wire_api = "responses"`, `env_key` for the key) — the block docs/clients.md documents —
 * against a Bedrock test server that plays the model:
 * - a plain prompt completes with the model's text;
 * - a prompt for which the model calls Codex's shell tool (`exec_command`) on a file in the
 *   work folder: Codex runs it, sends the output back as a function_call_output (with
 *   `store: false`, the whole conversation each turn), and the model's answer quotes it.
 * `web_search = "disabled"`: Codex offers OpenAI's hosted web search by default, which the
 * gateway refuses by name (400) — it cannot run it.
 */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { agentWorkspace, secretIn, toolNames, toolResults } from '../helpers/agent-workspace.js'
import { startGateway } from '../helpers/app.js'
import { runAgent, type AgentRun } from '../helpers/run-agent.js'
import {
  textStreamFrames,
  toolUseStreamFrames,
  type BedrockCall,
  type BedrockHandler,
} from '../helpers/bedrock-server.js'

const require = createRequire(import.meta.url)
const CODEX = require.resolve('@openai/codex/bin/codex.js')
const { work, home, secret: SECRET } = agentWorkspace(t, 'codex')

const lastUser = (call: BedrockCall): string => {
  const users = (call.body?.messages ?? []).filter((m: { role: string }) => m.role === 'user')
  return JSON.stringify(users.at(-1)?.content ?? [])
}

/** The scripted model: for "read the note", run `cat note.txt` through exec_command, then quote it. */
const handler: BedrockHandler = (call) => {
  if (call.operation !== 'converse-stream')
    return { error: { type: 'ValidationException', message: 'scripted server: streaming only' } }
  const results = toolResults(call)
  if (
    /read the note/.test(JSON.stringify(call.body.messages)) &&
    toolNames(call).includes('exec_command') &&
    results.length === 0
  ) {
    return {
      frames: toolUseStreamFrames(
        [{ toolUseId: 'tooluse_sh1', name: 'exec_command', input: { cmd: 'cat note.txt' } }],
        { text: ['Reading the note.'] },
      ),
    }
  }
  if (results.length > 0) {
    return { frames: textStreamFrames(['The note says the secret word is ', `${secretIn(results)}.`]) }
  }
  return {
    frames: textStreamFrames([
      'Hello ',
      `from pennyworth (${lastUser(call).length > 2 ? 'got the prompt' : 'no prompt'}).`,
    ]),
  }
}

const gw = await startGateway(t, { bedrockHandler: handler })
writeFileSync(
  join(home, 'config.toml'),
  [
    'model = "claude-sonnet-4-5"',
    'model_provider = "pennyworth"',
    'approval_policy = "never"',
    'sandbox_mode = "danger-full-access"',
    'web_search = "disabled"',
    '',
    '[model_providers.pennyworth]',
    'name = "pennyworth"',
    `base_url = "${gw.url}/v1"`,
    'env_key = "PENNYWORTH_API_KEY"',
    'wire_api = "responses"',
    '',
  ].join('\n'),
)

function codex(prompt: string): Promise<AgentRun> {
  return runAgent([CODEX, 'exec', '--skip-git-repo-check', prompt], {
    cwd: work,
    env: { PATH: process.env.PATH, HOME: home, CODEX_HOME: home, PENNYWORTH_API_KEY: gw.key },
  })
}

t.test('codex exec completes a prompt through the gateway', async (t) => {
  const before = gw.bedrock.calls.length
  const r = await codex('Say hello')
  if (r.code !== 0) t.comment(r.stderr.slice(-2000))
  t.equal(r.code, 0, 'codex exec exits 0')
  t.match(r.stdout, /Hello from pennyworth \(got the prompt\)\./)
  const calls = gw.bedrock.calls.slice(before)
  t.ok(calls.length >= 1)
  t.ok(
    toolNames(calls[0]).includes('exec_command'),
    "Codex's function tools reach the model (namespaced ones flattened)",
  )
  t.ok(
    gw.usage.events.some((e) => e.modelId === 'claude-sonnet-4-5'),
    'metered',
  )
})

t.test('codex exec runs a shell tool call and the model sees its output', async (t) => {
  const before = gw.bedrock.calls.length
  const r = await codex('Please read the note in this folder and tell me the secret word.')
  if (r.code !== 0) t.comment(r.stderr.slice(-2000))
  t.equal(r.code, 0, 'codex exec exits 0')
  t.match(r.stdout, new RegExp(`The note says the secret word is ${SECRET}\\.`))
  const calls = gw.bedrock.calls.slice(before)
  t.ok(calls.length >= 2, `${calls.length} model calls`)
  const last = calls.at(-1)!
  t.match(toolResults(last).join(' '), SECRET, "the command's output went upstream as a toolResult")
  const assistant = last.body.messages.find(
    (m: { role: string; content: Array<{ toolUse?: object }> }) =>
      m.role === 'assistant' && m.content.some((b) => b.toolUse),
  )
  t.match(
    assistant.content.find((b: { toolUse?: object }) => b.toolUse),
    { toolUse: { toolUseId: 'tooluse_sh1', name: 'exec_command', input: { cmd: 'cat note.txt' } } },
  )
})
