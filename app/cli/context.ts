/**
 * What every command gets: where to write, the environment, the parsed command line; and the
 * way every command answers (a human form by default, one JSON document with --json).
 */
import type { Flags } from './flags.js'
import type { Io } from './ui.js'

export interface Context {
  io: Io
  env: NodeJS.ProcessEnv
  flags: Flags
  /** After the group and the command: `keys show <id>` → [id]. */
  args: string[]
  /** `keys show` → 'show'; undefined for one-word groups (`whoami`, `usage`). */
  command: string | undefined
}

/** Prints `value` as JSON with --json, else runs `human`. */
export function answer(ctx: Context, value: unknown, human: () => void): void {
  if (ctx.flags.json === true) ctx.io.out(JSON.stringify(value))
  else human()
}
