/**
 * The CLI's one error type. Whatever goes wrong ends as a CliError with its exit code; main()
 * prints its message as one line and returns the code.
 */

/** Exit codes: documented in the CLI's help and docs/keys-and-cli.md. */
export const EXIT = { ok: 0, failure: 1, usage: 2, auth: 3, forbidden: 4, notFound: 5 } as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

export class CliError extends Error {
  /**
   * @param exitCode see EXIT
   * @param pointToHelp the command line itself is wrong: main() adds one line pointing at `--help`
   */
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failure,
    readonly pointToHelp = false,
  ) {
    super(message)
  }
}

/** A command line that makes no sense (exit 2, with a pointer to `--help`). */
export const usageError = (message: string) => new CliError(message, EXIT.usage, true)
