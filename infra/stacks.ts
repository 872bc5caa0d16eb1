/**
 * The naming rule of the three Pulumi programs. One environment `<env>` (e.g. `prod`) is three
 * stacks, all named `<env>`, in three projects:
 *
 * | program  | project               | Pulumi.yaml                 | deployed by          |
 * | -------- | --------------------- | --------------------------- | -------------------- |
 * | identity | `pennyworth-identity` | `infra/identity/Pulumi.yaml`| an admin, rarely     |
 * | data     | `pennyworth-data`     | `infra/data/Pulumi.yaml`    | an admin, rarely     |
 * | edge     | `pennyworth`          | `Pulumi.yaml` (repo root)   | CI, every merge      |
 *
 * The edge keeps the repository's original project name, so its stack `prod` is the stack
 * that existed before the split (the migration moves identity and data out of it; the edge's
 * resources never move). All three read ONE stack file, `Pulumi.<env>.yaml` at the repository
 * root: the identity and data projects set `stackConfigDir: ../..`.
 *
 * Stack references use fully qualified names `<org>/<project>/<env>`; with the self-managed
 * (S3) backend the organization is always `organization`.
 */

/** The programs, in the order a first install deploys them. */
export const PROGRAMS = ['identity', 'data', 'edge'] as const
export type ProgramName = (typeof PROGRAMS)[number]

/** Project name of the edge, prefix of the others, and of every physical name (`pennyworth-prod-…`). */
export const BASE_PROJECT = 'pennyworth'

/** The organization part of a stack name on the self-managed backend. */
export const DIY_ORGANIZATION = 'organization'

/** Environment (= stack) names: they become part of physical names and S3 keys. */
export const ENVIRONMENT_PATTERN = /^[a-z][a-z0-9-]{0,30}$/

export function assertEnvironment(env: string): string {
  if (!ENVIRONMENT_PATTERN.test(env)) {
    throw new Error(
      `environment "${env}" is not valid: lower-case letters, digits and "-", starting ` +
        `with a letter, at most 31 characters`,
    )
  }
  return env
}

/** Pulumi project of a program. */
export function projectName(program: ProgramName): string {
  return program === 'edge' ? BASE_PROJECT : `${BASE_PROJECT}-${program}`
}

/** Directory (relative to the repository root) holding the program's Pulumi.yaml. */
export function programDir(program: ProgramName): string {
  return program === 'edge' ? '.' : `infra/${program}`
}

/** Fully qualified stack name of a program in an environment (what StackReference takes). */
export function stackName(program: ProgramName, env: string, organization = DIY_ORGANIZATION): string {
  return `${organization}/${projectName(program)}/${assertEnvironment(env)}`
}

/** Prefix of the environment's physical names: `pennyworth-<env>` (the same in all three programs). */
export function defaultNamePrefix(env: string): string {
  return `${BASE_PROJECT}-${assertEnvironment(env)}`
}

/**
 * S3 keys of a stack in a self-managed backend with the project-scoped layout (meta.yaml
 * version 1, the default for backends created by Pulumi ≥ 3.61): the checkpoint and its
 * backups/history/locks. The deploy role writes only the edge's, and reads only the others'
 * checkpoints.
 */
export function stateKeys(program: ProgramName, env: string) {
  const project = projectName(program)
  return {
    /** The checkpoint (plus `.bak`/`.gz` variants the backend may write). */
    checkpoint: `.pulumi/stacks/${project}/${env}.json`,
    /** Prefixes under which the backend keeps this stack's history, backups and locks. */
    prefixes: ['history', 'backups', 'locks'].map((dir) => `.pulumi/${dir}/${project}/${env}/`),
  }
}

/** The backend's own metadata object (read on login). */
export const STATE_META_KEY = '.pulumi/meta.yaml'
