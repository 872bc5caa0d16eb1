/**
 * `npm run deploy -- --env <env> [--preview]` (scripts/deploy.ts): a whole environment in
 * order, identity → data → edge, through the Pulumi Automation API, stopping at the first
 * failure with a message that says which stack failed and which were not deployed. This file is
 * the orchestration only; the stacks come from a factory (the Automation API in
 * scripts/deploy.ts, a recording fake in test/infra/deploy.test.ts).
 */
import { unmigratedResources, migrationCommands } from './migration.js'
import { PROGRAMS, assertEnvironment, programDir, projectName, stackName, type ProgramName } from './stacks.js'

export interface DeployArgs {
  env: string
  /** `pulumi preview` instead of `pulumi up`. */
  preview: boolean
}

export const USAGE =
  'usage: npm run deploy -- --env <environment> [--preview]\n' +
  '  Deploys the identity, data and edge stacks of <environment> in that order (Pulumi.<environment>.yaml);\n' +
  '  --preview only shows what would change. CI deploys the edge alone (.github/workflows/deploy.yml).'

export class UsageError extends Error {
  override name = 'UsageError'
}

/** Parses `--env <env>` / `--env=<env>` and `--preview`; anything else is a usage error. */
export function parseDeployArgs(argv: readonly string[]): DeployArgs | 'help' {
  let env: string | undefined
  let preview = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--help' || arg === '-h') return 'help'
    else if (arg === '--preview') preview = true
    else if (arg === '--env') {
      env = argv[++i]
      if (env === undefined || env.startsWith('--')) throw new UsageError('--env needs a value, e.g. --env prod')
    } else if (arg.startsWith('--env=')) env = arg.slice('--env='.length)
    else throw new UsageError(`unknown argument "${arg}"`)
  }
  if (env === undefined) throw new UsageError('--env is required, e.g. --env prod')
  try {
    assertEnvironment(env)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  return { env, preview }
}

/** One stack of the environment, as the factory gets it. */
export interface StackTarget {
  program: ProgramName
  project: string
  /** The environment = the stack's short name. */
  env: string
  /** `organization/<project>/<env>`. */
  fullyQualifiedName: string
  /** Directory of the program's Pulumi.yaml, relative to the repository root. */
  workDir: string
}

/** What the orchestration needs of a stack (a subset of the Automation API's `Stack`). */
export interface DeployStack {
  preview(): Promise<{ changeSummary?: Record<string, number> }>
  up(): Promise<{ summary: { result?: string; resourceChanges?: Record<string, number> } }>
}

export interface StackFactory {
  /** The stack, created (with the passphrase secrets provider) when missing. */
  open(target: StackTarget): Promise<DeployStack>
  /** URNs in the stack's state, or undefined when the stack does not exist yet. */
  urns(target: StackTarget): Promise<string[] | undefined>
}

export function stackTargets(env: string): StackTarget[] {
  return PROGRAMS.map((program) => ({
    program,
    project: projectName(program),
    env,
    fullyQualifiedName: stackName(program, env),
    workDir: programDir(program),
  }))
}

export interface StepResult {
  program: ProgramName
  changes: Record<string, number>
  /** Why the step did not run (a preview of edge before identity and data exist). */
  skipped?: string
}

export class DeployError extends Error {
  override name = 'DeployError'
  constructor(
    message: string,
    readonly program?: ProgramName,
    readonly completed: StepResult[] = [],
  ) {
    super(message)
  }
}

const summarize = (changes: Record<string, number>) =>
  Object.entries(changes)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ') || 'no changes'

/**
 * Deploys (or previews) identity, data, edge in that order. Stops at the first failure: the
 * error names the failed stack, the cause, and the stacks that were not touched.
 */
export async function deployEnvironment(
  args: DeployArgs,
  factory: StackFactory,
  log: (line: string) => void = () => {},
): Promise<StepResult[]> {
  const targets = stackTargets(args.env)
  const verb = args.preview ? 'preview' : 'up'

  // A single-stack deployment not yet split: identity/data would create duplicates.
  const edge = targets.find((t) => t.program === 'edge')!
  const leftovers = unmigratedResources((await factory.urns(edge)) ?? [])
  if (leftovers.length > 0) {
    throw new DeployError(
      [
        `${edge.fullyQualifiedName} still holds ${leftovers.length} identity/data resources ` +
          `from the single-stack layout;`,
        'deploying identity or data now would create a second user pool and fail on the tables.',
        'Move them first (infra/README.md, "Migrating from the single stack"):',
        ...migrationCommands(args.env).map((c) => `  ${c}`),
      ].join('\n'),
    )
  }

  const done: StepResult[] = []
  for (const [i, target] of targets.entries()) {
    const rest = targets.slice(i + 1).map((t) => t.program)
    log(
      `[${i + 1}/${targets.length}] ${target.program}: pulumi ${verb} ${target.fullyQualifiedName} (${target.workDir})`,
    )
    if (args.preview && target.program === 'edge') {
      // The edge reads the other stacks' outputs; before their first `up` there are none to read.
      const missing: ProgramName[] = []
      for (const other of targets.filter((t) => t.program !== 'edge')) {
        if (((await factory.urns(other)) ?? []).length === 0) missing.push(other.program)
      }
      if (missing.length > 0) {
        const skipped = `needs ${missing.join(' and ')} deployed first (its stack references read their outputs)`
        done.push({ program: 'edge', changes: {}, skipped })
        log(`[${i + 1}/${targets.length}] edge: preview skipped: ${skipped}`)
        continue
      }
    }
    try {
      const stack = await factory.open(target)
      const changes = args.preview
        ? ((await stack.preview()).changeSummary ?? {})
        : await stack.up().then(({ summary }) => {
            if (summary.result !== undefined && summary.result !== 'succeeded')
              throw new Error(`update ended "${summary.result}"`)
            return summary.resourceChanges ?? {}
          })
      done.push({ program: target.program, changes })
      log(`[${i + 1}/${targets.length}] ${target.program}: ${verb} done (${summarize(changes)})`)
    } catch (err) {
      const cause = err instanceof Error ? err.message.trim().split('\n').slice(-12).join('\n') : String(err)
      throw new DeployError(
        [
          `${target.program} (${target.fullyQualifiedName}) failed during pulumi ${verb}: stopped.`,
          cause,
          done.length > 0
            ? `Done before it: ${done.map((d) => d.program).join(', ')}.`
            : 'Nothing was deployed before it.',
          rest.length > 0 ? `Not run: ${rest.join(', ')}.` : '',
        ]
          .filter(Boolean)
          .join('\n'),
        target.program,
        done,
      )
    }
  }
  return done
}
