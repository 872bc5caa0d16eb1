/**
 * `pennyworth` — the command line. Signed in with Cognito (`login`), every command goes through
 * the admin API. The bootstrap path stays: `keys create|list|revoke --direct` work directly
 * against the configured DynamoDB, and with `--local` against `npm start`'s store.
 *
 * main(argv, io, env) is the whole CLI and runs in-process (tests call it); bin.js is the
 * process around it.
 */
import type { Context } from './context.js'
import { CliError, EXIT, usageError } from './errors.js'
import { parseCommandLine } from './flags.js'
import { login, logout, whoami } from './commands/auth.js'
import { keys } from './commands/keys.js'
import { usage } from './commands/usage.js'
import { users } from './commands/users.js'
import { stdio, withDefaults, type Io } from './ui.js'

export const USAGE = `Usage: pennyworth <command> [options]

Sign-in (Cognito; tokens cached in ~/.pennyworth, mode 0600, refreshed automatically):
  login [--username <e-mail>] [--flow auto|srp|password]
  logout
  whoami

Keys (your own; admins: anyone's):
  keys create --name <name> [--owner <user>] [--models <id,id…>] [--expires <ISO date | 30d>]
              [--budget-usd <monthly USD>] [--soft-budget-usd <USD>] [--rpm <n>] [--tpm <n>]
  keys list [--owner <user>]
  keys show <key-id>
  keys update <key-id> [--name …] [--models …] [--expires <date | 30d | never>]
              [--budget-usd <USD | none>] [--soft-budget-usd <USD | none>] [--rpm <n | none>] [--tpm <n | none>]
  keys revoke <key-id>
  keys rotate <key-id> [--grace <0 | 90s | 15m | 1h | 7d>]   (the old key works for the grace period)

Usage (table and a bar chart; --json for scripts):
  usage [--granularity day|month] [--from <YYYY-MM-DD>] [--to <YYYY-MM-DD>] [--key <key-id>] [--owner <user>]

Users (admins):
  users add <e-mail> [--group user|admin] [--no-invite] [--set-password]
  users list
  users disable <e-mail | user name | sub>

Options:
  --api-url <url>  the gateway (or PENNYWORTH_API_URL; default: the last one signed in to)
  --json           machine-readable output
  -h, --help       this text

Bootstrap without sign-in (keys create|list|revoke only):
  --local     directly in the local mode's store (PENNYWORTH_DATA_DIR, default ./.pennyworth)
  --direct    directly in the configured DynamoDB: AWS credentials and region from the usual
              AWS variables or profile, table names from PENNYWORTH_KEYS_TABLE

Times are UTC, ISO 8601 (2026-03-03T04:05:06Z).
Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 not signed in or sign-in
failed, 4 permission denied, 5 not found.`

/** One line after a usage error, instead of the whole help. */
export const HELP_POINTER = 'Run "pennyworth --help" for the commands and options.'

const GROUPS: Record<string, (ctx: Context) => Promise<number>> = { login, logout, whoami, keys, usage, users }
/** Groups that are one word: anything after them is a mistake. */
const SINGLE = new Set(['login', 'logout', 'whoami'])

/**
 * Runs one command line; returns the exit code. `io` may be partial (tests give `out` and
 * `err`, and `input` to answer prompts); `env` replaces process.env for everything the CLI reads.
 */
export async function main(
  argv: string[],
  io: Pick<Io, 'out' | 'err'> & Partial<Io> = stdio,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const full = withDefaults(io)
  try {
    const { flags, positionals } = parseCommandLine(argv)
    const [group, command, ...args] = positionals
    if (flags.help === true) {
      full.out(USAGE)
      return EXIT.ok
    }
    if (!group) {
      full.err(USAGE)
      return EXIT.usage
    }
    const run = GROUPS[group]
    if (!run) throw usageError(`unknown command: ${positionals.join(' ')}`)
    const local = flags.local === true ? '--local' : flags.direct === true ? '--direct' : undefined
    if (local && group !== 'keys') {
      throw usageError(
        `${group} does not work with ${local}: only keys create, list and revoke do (the ` +
          `others need a gateway and sign-in)`,
      )
    }
    if (SINGLE.has(group) && command !== undefined)
      throw usageError(`${group} takes options only; got: ${positionals.join(' ')}`)
    return await run({ io: full, env, flags, args, command })
  } catch (err) {
    if (err instanceof CliError) {
      full.err(`pennyworth: ${err.message}`)
      if (err.pointToHelp) full.err(HELP_POINTER)
      return err.exitCode
    }
    const e = err as Error
    const noCredentials = 'no AWS credentials found (set AWS_PROFILE or use --local)'
    full.err(`pennyworth: ${e.name === 'CredentialsProviderError' ? noCredentials : e.message}`)
    return EXIT.failure
  }
}
