/**
 * Stack configuration (`Pulumi.<env>.yaml` at the repository root, namespace `pennyworth:`,
 * shared by the identity, data and edge programs): read once, validated, and handed to the
 * components as plain typed values. Nothing else reads pulumi.Config.
 */
import * as pulumi from '@pulumi/pulumi'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  BASE_PROJECT,
  DIY_ORGANIZATION,
  ENVIRONMENT_PATTERN,
  defaultNamePrefix,
  projectName,
  type ProgramName,
} from './stacks.js'

/** Repository root (infra/..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

export interface StackConfig {
  /** Which of the three programs is running (infra/stacks.ts). */
  program: ProgramName
  /** `pennyworth` (the base project name, also the `Project` tag), whichever program runs. */
  project: string
  /** The environment: the stack name, the same in all three projects. */
  stack: string
  /** `pennyworth-<stack>` unless `namePrefix` is set: prefix of every physical name, shared by the three programs. */
  namePrefix: string
  /** Organization part of stack references (`organization` on the self-managed backend). */
  stackOrganization: string
  /** `aws:region`. */
  region: string
  baseDomain: string
  /** `api.<baseDomain>`. */
  apiDomain: string
  /** Route53 zone of `baseDomain`; looked up by name (public zones) when absent. */
  hostedZoneId?: string
  /** `owner/name`: the only repository whose main branch may assume the deploy role. */
  githubRepo: string
  /** Existing GitHub OIDC provider ARN (one per account); created when absent. */
  githubOidcProviderArn?: string
  lambdaMemoryMb: number
  reservedConcurrency?: number
  /** Catalog model ids to serve; empty = every Bedrock model in the catalog. */
  allowedModels: string[]
  /**
   * `s3InputBuckets`: buckets whose objects clients may reference as s3:// images and documents,
   * each `name` or `name:<owner account id>` (app: PENNYWORTH_S3_BUCKETS); empty = none.
   */
  s3InputBuckets: string[]
  /** Secret. */
  alarmEmail?: pulumi.Output<string>
  /** S3 bucket of the Pulumi state backend; default `<project>-state-<account>-<region>`. */
  stateBucket?: string
  stageName: string
  throttle: { rateLimit: number; burstLimit: number }
  alarms: { fiveXxRate: number; lambdaErrors: number; lambdaThrottles: number }
  /** Thresholds of the observability alarms (infra/components/observability.ts). */
  observability: {
    upstreamThrottleRate: number
    ttftP99Ms: number
    usageWriteFailures: number
    durationMarginSeconds: number
    dynamoThrottles: number
    spendPerHourUsd: number
  }
  /** X-Ray active tracing and the app's subsegments (PENNYWORTH_TRACING). */
  tracing: boolean
  logRetentionDays: number
  protectData: boolean
  manageApiGatewayAccount: boolean
  disableExecuteApiEndpoint: boolean
  /** Absolute path of the model catalog JSON. */
  catalogPath: string
  /** Absolute path of the directory holding the Lambda bundle (index.mjs). */
  lambdaBundleDir: string
}

/** Values CloudWatch Logs accepts for retentionInDays. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]

function int(config: pulumi.Config, key: string, fallback: number, min: number, max: number): number {
  const value = config.getNumber(key, { min, max }) ?? fallback
  if (!Number.isInteger(value)) throw new pulumi.RunError(`${config.name}:${key} must be an integer, got ${value}`)
  return value
}

/**
 * Reads `Pulumi.<env>.yaml` (namespace `pennyworth:` in all three programs: they share the file)
 * and checks the program runs under its own project name and a valid environment name.
 */
export function readStackConfig(program: ProgramName): StackConfig {
  const expected = projectName(program)
  if (pulumi.getProject() !== expected) {
    throw new pulumi.RunError(
      `the ${program} program must run as project "${expected}", not "${pulumi.getProject()}" (infra/stacks.ts)`,
    )
  }
  const project = BASE_PROJECT
  const stack = pulumi.getStack()
  if (!ENVIRONMENT_PATTERN.test(stack))
    throw new pulumi.RunError(`stack "${stack}" is not a valid environment name (${ENVIRONMENT_PATTERN})`)
  const config = new pulumi.Config(BASE_PROJECT)
  const aws = new pulumi.Config('aws')

  const baseDomain = config.require('baseDomain', {
    pattern: /^(?=.{1,250}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
  })
  const githubRepo = config.require('githubRepo', { pattern: /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/ })
  const hostedZoneId = config.get('hostedZoneId', { pattern: /^Z[A-Z0-9]{1,31}$/ })
  const allowedModels = config.getObject<string[]>('allowedModels') ?? []
  if (!Array.isArray(allowedModels) || allowedModels.some((m) => typeof m !== 'string' || m === '')) {
    throw new pulumi.RunError(`${config.name}:allowedModels must be a list of catalog model ids`)
  }
  const s3InputBuckets = config.getObject<string[]>('s3InputBuckets') ?? []
  if (
    !Array.isArray(s3InputBuckets) ||
    s3InputBuckets.some((b) => typeof b !== 'string' || !/^[a-z0-9][.\-a-z0-9]{1,61}[a-z0-9](:\d{12})?$/.test(b))
  ) {
    throw new pulumi.RunError(
      `${config.name}:s3InputBuckets must be a list of S3 bucket names, each optionally followed by ` +
        ':<owner account id>',
    )
  }
  const logRetentionDays = int(config, 'logRetentionDays', 14, 1, 3653)
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    throw new pulumi.RunError(`${config.name}:logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
  }
  const reservedConcurrency = config.getNumber('reservedConcurrency', { min: 1 })
  const fiveXxRate = config.getNumber('alarm5xxRate', { min: 0, max: 1 }) ?? 0.05

  return {
    program,
    project,
    stack,
    namePrefix: config.get('namePrefix', { pattern: /^[a-z][a-z0-9-]{1,30}$/ }) ?? defaultNamePrefix(stack),
    stackOrganization: config.get('stackOrganization', { pattern: /^[A-Za-z0-9_.-]+$/ }) ?? DIY_ORGANIZATION,
    region: aws.require('region'),
    baseDomain,
    apiDomain: `api.${baseDomain}`,
    hostedZoneId,
    githubRepo,
    githubOidcProviderArn: config.get('githubOidcProviderArn', {
      pattern: /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/,
    }),
    lambdaMemoryMb: int(config, 'lambdaMemoryMb', 1024, 128, 10240),
    reservedConcurrency,
    allowedModels,
    s3InputBuckets,
    alarmEmail: config.getSecret('alarmEmail'),
    stateBucket: config.get('stateBucket', { pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/ }),
    stageName: config.get('stageName', { pattern: /^[A-Za-z0-9_-]{1,64}$/ }) ?? 'live',
    throttle: {
      rateLimit: int(config, 'throttleRateLimit', 50, 1, 10000),
      burstLimit: int(config, 'throttleBurstLimit', 100, 1, 5000),
    },
    alarms: {
      fiveXxRate,
      lambdaErrors: int(config, 'alarmLambdaErrors', 5, 1, 100000),
      lambdaThrottles: int(config, 'alarmLambdaThrottles', 1, 1, 100000),
    },
    observability: {
      upstreamThrottleRate: config.getNumber('alarmUpstreamThrottleRate', { min: 0, max: 1 }) ?? 0.05,
      ttftP99Ms: int(config, 'alarmTtftP99Ms', 10_000, 100, 900_000),
      usageWriteFailures: int(config, 'alarmUsageWriteFailures', 1, 1, 100000),
      durationMarginSeconds: int(config, 'alarmDurationMarginSeconds', 60, 1, 899),
      dynamoThrottles: int(config, 'alarmDynamoThrottles', 1, 1, 100000),
      spendPerHourUsd: config.getNumber('alarmSpendPerHourUsd', { min: 0.01 }) ?? 50,
    },
    tracing: config.getBoolean('tracing') ?? true,
    logRetentionDays,
    protectData: config.getBoolean('protectData') ?? true,
    manageApiGatewayAccount: config.getBoolean('manageApiGatewayAccount') ?? true,
    disableExecuteApiEndpoint: config.getBoolean('disableExecuteApiEndpoint') ?? true,
    catalogPath: resolve(ROOT, config.get('catalogPath') ?? 'app/catalog/default.json'),
    lambdaBundleDir: resolve(ROOT, config.get('lambdaBundleDir') ?? 'dist/lambda'),
  }
}
