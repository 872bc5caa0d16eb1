/**
 * Claude Code itself (@anthropic-ai/claude-code from npm, its native binary) through the
 * gateway: `claude -p "…" --output-format json` with only ANTHROPIC_BASE_URL and
 * ANTHROPIC_API_KEY set, against a gateway whose Bedrock test server plays the model: it asks
 * for the Read tool on a file in a temp folder, then answers with what the tool result said.
 * The prompt must complete and the file's content must reach the upstream as a toolResult.
 *
 * npm's install-script policy here skips the package's postinstall, so the binary is started
 * through its own cli-wrapper.cjs, which execs the native binary of @anthropic-ai/claude-code-linux-x64.
 * Claude Code asks for its own default model (an id no catalog lists yet): the family fallback
 * serves it; it also sends `system` messages inside `messages` and adaptive thinking.
 */
import t from 'tap'
import { createRequire } from 'node:module'
import { agentWorkspace, secretIn, toolNames, toolResults } from '../helpers/agent-workspace.js'
import { startGateway } from '../helpers/app.js'
import { runAgent, type AgentRun } from '../helpers/run-agent.js'
import { textStreamFrames, toolUseStreamFrames, type BedrockHandler } from '../helpers/bedrock-server.js'

const require = createRequire(import.meta.url)
const WRAPPER = require.resolve('@anthropic-ai/claude-code/cli-wrapper.cjs')
const { work, home, note: file, secret: SECRET } = agentWorkspace(t, 'claude')

/** The scripted model: Read the file when the Read tool is offered and not used yet, else answer. */
const handler: BedrockHandler = (call) => {
  if (call.operation === 'count-tokens') return { json: { inputTokens: 100 } }
  const results = toolResults(call)
  let frames
  if (toolNames(call).includes('Read') && results.length === 0) {
    frames = toolUseStreamFrames([{ toolUseId: 'tooluse_read1', name: 'Read', input: { file_path: file } }], {
      text: ['I will read the file.'],
    })
  } else {
    frames = textStreamFrames([`The file says the secret word is `, `${secretIn(results)}.`])
  }
  if (call.operation === 'converse-stream') return { frames }
  return { error: { type: 'ValidationException', message: 'scripted server: streaming only' } }
}

const gw = await startGateway(t, { bedrockHandler: handler })

function runClaude(prompt: string): Promise<AgentRun> {
  return runAgent([WRAPPER, '-p', prompt, '--output-format', 'json', '--allowedTools', 'Read'], {
    cwd: work,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      ANTHROPIC_BASE_URL: gw.url,
      ANTHROPIC_API_KEY: gw.key,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
    },
  })
}

t.test('claude -p completes a prompt with a Read tool round trip', { timeout: 120_000 }, async (t) => {
  const res = await runClaude(`Read the file ${file} and tell me the secret word.`)
  const calls = gw.bedrock.calls.map(
    (c) => `${c.operation} ${c.modelId} tools=${toolNames(c).length} results=${toolResults(c).length}`,
  )
  t.comment(`upstream calls: ${calls.join('; ')}`)
  t.equal(res.code, 0, `exit code 0 (stderr: ${res.stderr.slice(0, 500)})`)
  let out: { type?: string; is_error?: boolean; result?: string } = {}
  try {
    out = JSON.parse(res.stdout)
  } catch {
    t.fail(`stdout is not JSON: ${res.stdout.slice(0, 500)}`)
  }
  t.equal(out.is_error, false, 'the prompt completed')
  t.match(out.result, new RegExp(`secret word is ${SECRET}`), 'the answer carries what the tool read')
  const withResult = gw.bedrock.calls.find((c) => toolResults(c).some((r) => r.includes(SECRET)))
  t.ok(withResult, 'the Read tool result (the file content) reached Bedrock as a toolResult')
  t.ok(gw.usage.events.length >= 2, `both model calls metered (${gw.usage.events.length})`)
  t.ok(
    gw.bedrock.calls.every((c) => c.modelId === 'us.anthropic.claude-opus-4-6-v1'),
    'its default model id was served by the newest Opus',
  )
  t.ok(
    gw.bedrock.calls.every((c) => c.body.additionalModelRequestFields?.thinking?.type === 'enabled'),
    'adaptive thinking → a thinking budget',
  )
})
