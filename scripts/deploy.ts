/**
 * `npm run deploy -- --env <env> [--preview]`: a first install (or a full update) of one
 * environment by an admin: identity → data → edge through the Pulumi Automation API, each in
 * its own project directory with the shared `Pulumi.<env>.yaml`, the policy pack on every stack,
 * stopping at the first failure. Needs the Pulumi CLI, the admin's AWS credentials,
 * `PULUMI_BACKEND_URL` (or `pulumi login`) and `PULUMI_CONFIG_PASSPHRASE`. CI does not use this:
 * it deploys the edge alone (.github/workflows/deploy.yml).
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ROOT } from '../infra/config.js'
import {
  DeployError,
  USAGE,
  UsageError,
  deployEnvironment,
  parseDeployArgs,
  type StackFactory,
  type StackTarget,
} from '../infra/deploy.js'
import { buildPolicyPack } from '../infra/policy/build.js'

/** Stacks through the Automation API (imported lazily: nothing here runs without the CLI). */
export async function automationFactory(options: {
  policyPack: string
  onOutput: (out: string) => void
}): Promise<StackFactory> {
  const { LocalWorkspace } = await import('@pulumi/pulumi/automation/index.js')
  const workDir = (target: StackTarget) => join(ROOT, target.workDir)
  return {
    async open(target) {
      const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: target.fullyQualifiedName, workDir: workDir(target) },
        { secretsProvider: 'passphrase' },
      )
      const opts = { policyPacks: [options.policyPack], onOutput: options.onOutput, color: 'auto' as const }
      return { preview: () => stack.preview(opts), up: () => stack.up(opts) }
    },
    async urns(target) {
      const ws = await LocalWorkspace.create({ workDir: workDir(target) })
      const stacks = await ws.listStacks()
      if (!stacks.some((s) => s.name === target.fullyQualifiedName || s.name === target.env)) return undefined
      const deployment = await ws.exportStack(target.fullyQualifiedName)
      return ((deployment.deployment?.resources ?? []) as { urn: string }[]).map((r) => r.urn)
    },
  }
}

export async function main(
  argv: string[],
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  let args
  try {
    args = parseDeployArgs(argv)
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    err(`deploy: ${e.message}\n${USAGE}`)
    return 2
  }
  if (args === 'help') {
    out(USAGE)
    return 0
  }
  if (!existsSync(join(ROOT, `Pulumi.${args.env}.yaml`))) {
    err(
      `deploy: Pulumi.${args.env}.yaml not found at the repository root (copy ` +
        `Pulumi.prod.yaml; infra/README.md "Another environment")`,
    )
    return 2
  }
  if (!existsSync(join(ROOT, 'dist/lambda/index.mjs'))) {
    err('deploy: dist/lambda/index.mjs not found: run "npm run build" first (the edge deploys that bundle)')
    return 2
  }
  const policyPack = await buildPolicyPack()
  try {
    const factory = await automationFactory({ policyPack, onOutput: (o) => process.stdout.write(o) })
    const results = await deployEnvironment(args, factory, out)
    const ran = results.filter((r) => !r.skipped).map((r) => r.program)
    out(
      `deploy: ${args.env}: ${ran.join(' → ')} ${args.preview ? 'previewed' : 'deployed'}${
        results.some((r) => r.skipped)
          ? ` (${results
              .filter((r) => r.skipped)
              .map((r) => `${r.program} skipped: ${r.skipped}`)
              .join('; ')})`
          : ''
      }`,
    )
    return 0
  } catch (e) {
    err(`deploy: ${e instanceof DeployError ? e.message : ((e as Error).stack ?? String(e))}`)
    return 1
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2))
}
