/**
 * What every program does first: read the shared stack config, create its tagged AWS provider,
 * and find out where it runs (account, region, partition; the hosted zone for those that need
 * it). Also the output contracts between the stacks: what identity and data export and edge
 * reads through `pulumi.StackReference`.
 */
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import type { TableKey } from './components/data.js'
import { readStackConfig, type StackConfig } from './config.js'
import type { AccountContext } from './iam.js'
import type { ProgramName } from './stacks.js'
import { defaultTags, type Tags } from './tags.js'

export interface ProgramContext {
  cfg: StackConfig
  /** The program's AWS provider: region from config, default tags of this program. */
  provider: aws.Provider
  account: AccountContext
  tags: Tags
}

/**
 * The explicit AWS provider of a program: the stack's region and the default tags. Components
 * get it through `providers: { aws }` so every child uses it.
 */
export function taggedProvider(name: string, args: { region: string; tags: Tags }): aws.Provider {
  return new aws.Provider(name, { region: args.region as aws.Region, defaultTags: { tags: args.tags } })
}

export async function startProgram(program: ProgramName): Promise<ProgramContext> {
  const cfg = readStackConfig(program)
  const tags = defaultTags({ project: cfg.project, environment: cfg.stack, stack: program })
  const provider = taggedProvider('aws', { region: cfg.region, tags })
  const opts = { provider }
  const [caller, region, partition] = await Promise.all([
    aws.getCallerIdentity({}, opts),
    aws.getRegion({}, opts),
    aws.getPartition({}, opts),
  ])
  if (region.region !== cfg.region)
    throw new pulumi.RunError(`provider region ${region.region} differs from aws:region ${cfg.region}`)
  return {
    cfg,
    provider,
    tags,
    account: { partition: partition.partition, region: region.region, accountId: caller.accountId },
  }
}

/** The Route53 zone of `baseDomain` (by id when configured), checked to really be that domain. */
export async function lookupZone(cfg: StackConfig, provider: aws.Provider): Promise<{ zoneId: string; name: string }> {
  const zone = cfg.hostedZoneId
    ? await aws.route53.getZone({ zoneId: cfg.hostedZoneId }, { provider })
    : await aws.route53.getZone({ name: cfg.baseDomain, privateZone: false }, { provider })
  if (zone.name.replace(/\.$/, '').toLowerCase() !== cfg.baseDomain) {
    throw new pulumi.RunError(`hosted zone ${zone.zoneId} is "${zone.name}", not the base domain "${cfg.baseDomain}"`)
  }
  return { zoneId: zone.zoneId, name: zone.name }
}

/** The state bucket: configured, or `pennyworth-state-<account>-<region>`. */
export function stateBucketName(cfg: StackConfig, account: AccountContext): string {
  return cfg.stateBucket ?? `${cfg.project}-state-${account.accountId}-${account.region}`
}

/** Every stack exports where it is, so edge can refuse a reference to another environment. */
export interface StackIdentityOutputs {
  awsRegion: string
  namePrefix: string
}

/** What the identity stack exports (infra/identity/index.ts). */
export interface IdentityOutputs extends StackIdentityOutputs {
  userPoolId: string
  userPoolArn: string
  cliClientId: string
  /** The web console's app client (authorization code + PKCE) and the pool's managed login URL. */
  consoleClientId: string
  loginUrl: string
  /** The MCP OAuth facade's own app client (infra/identity/mcp-oauth-client.ts). */
  mcpOAuthClientId: string
  workloadBoundaryArn: string
  deployRoleArn: string
  oidcProviderArn: string
}

/** What the data stack exports (infra/data/index.ts). */
export interface DataOutputs extends StackIdentityOutputs {
  tableNames: Record<TableKey, string>
  tableArns: Record<TableKey, string>
}

/** The outputs edge reads from each stack (a missing one fails the edge deployment). */
export const IDENTITY_OUTPUT_KEYS = [
  'awsRegion',
  'namePrefix',
  'userPoolId',
  'userPoolArn',
  'cliClientId',
  'consoleClientId',
  'loginUrl',
  'mcpOAuthClientId',
  'workloadBoundaryArn',
] as const
export const DATA_OUTPUT_KEYS = ['awsRegion', 'namePrefix', 'tableNames', 'tableArns'] as const

/**
 * Reads `keys` from a stack reference as one output, failing the deployment with a clear
 * message when the referenced stack is in another region or uses another name prefix (i.e. it
 * belongs to another environment).
 */
export function referencedOutputs<T extends StackIdentityOutputs>(
  ref: pulumi.StackReference,
  keys: readonly (keyof T & string)[],
  expect: { region: string; namePrefix: string },
): pulumi.Output<Pick<T, (typeof keys)[number]>> {
  const values = pulumi.all(Object.fromEntries(keys.map((key) => [key, ref.requireOutput(key)]))) as pulumi.Output<
    Record<string, unknown>
  >
  return pulumi.all([ref.name, values]).apply(([name, v]) => {
    if (v.awsRegion !== expect.region)
      throw new pulumi.RunError(
        `stack ${name} is in region ${String(v.awsRegion)}, this edge in ${expect.region}: wrong environment?`,
      )
    if (v.namePrefix !== expect.namePrefix)
      throw new pulumi.RunError(
        `stack ${name} uses name prefix ${String(v.namePrefix)}, this edge ${expect.namePrefix}: wrong environment?`,
      )
    return v as unknown as Pick<T, (typeof keys)[number]>
  })
}
