/**
 * Moving a single-stack deployment (before the split, project `pennyworth`, one stack per
 * environment holding everything) to the three stacks. The edge keeps the old project and stack
 * name, and the components keep their type and name (`pennyworth:infra:Identity` `identity`,
 * `pennyworth:infra:Data` `data`, children unchanged), so every resource's URN stays the same
 * apart from the project: `pulumi state move` of the two component URNs (their children come
 * along) is the whole migration, and nothing is replaced or recreated. test/infra/migration.test.ts
 * checks that against the single-stack program's URNs under mocks.
 */
import { PROGRAMS, projectName, stackName, type ProgramName } from './stacks.js'

/** The component each program's resources hang under (type and logical name, as in the single stack). */
export const COMPONENTS: Record<ProgramName, { type: string; name: string }> = {
  identity: { type: 'pennyworth:infra:Identity', name: 'identity' },
  data: { type: 'pennyworth:infra:Data', name: 'data' },
  edge: { type: 'pennyworth:infra:Edge', name: 'edge' },
}

/** The URN of a program's component in an environment. */
export function componentUrn(program: ProgramName, env: string, project = projectName(program)): string {
  const c = COMPONENTS[program]
  return `urn:pulumi:${env}::${project}::${c.type}::${c.name}`
}

/** Which program owns a URN of the single stack (by its component), or undefined (providers, the stack). */
export function ownerOf(urn: string): ProgramName | undefined {
  const type = urn.split('::')[2] ?? ''
  const top = type.split('$')[0]
  return PROGRAMS.find((p) => COMPONENTS[p].type === top)
}

/** The URN the same resource has once its component lives in `program`'s project. */
export function movedUrn(urn: string, program: ProgramName): string {
  const parts = urn.split('::')
  parts[1] = projectName(program)
  return parts.join('::')
}

/**
 * Identity or data resources still in the edge stack: it is a single-stack deployment that has
 * not been migrated. Deploying identity or data then would create a second user pool and fail
 * on the tables' names, so the deploy script stops and points here.
 */
export function unmigratedResources(edgeUrns: readonly string[]): string[] {
  return edgeUrns.filter((urn) => {
    const owner = ownerOf(urn)
    return owner === 'identity' || owner === 'data'
  })
}

/** The commands that move identity and data out of the edge stack of `env` (run from the repository root). */
export function migrationCommands(env: string, organization?: string): string[] {
  const source = stackName('edge', env, organization)
  return (['identity', 'data'] as const).flatMap((program) => [
    `pulumi stack init ${stackName(program, env, organization)} --cwd infra/${program} --secrets-provider passphrase`,
    `pulumi state move --source ${source} --dest ` +
      `${stackName(program, env, organization)} --yes ` +
      `'${componentUrn(program, env, projectName('edge'))}'`,
  ])
}
