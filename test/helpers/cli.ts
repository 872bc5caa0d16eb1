/**
 * The `pennyworth` CLI in-process: main(argv, io, env) with captured output, `input` piped as
 * the answers to its prompts (one per line), and `env` as the whole environment it sees.
 */
import { Readable } from 'node:stream'
import { main } from '../../app/cli/main.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export async function runCli(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<CliResult> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(
    args,
    { out: (s) => out.push(s), err: (s) => err.push(s), input: Readable.from([input]) },
    env,
  )
  return { code, stdout: out.join('\n'), stderr: err.join('\n') }
}

/** stdout as JSON; anything but exit 0 throws with stderr (the test fails readably). */
export function json(r: CliResult): any {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout)
}
