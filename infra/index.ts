/**
 * The Pulumi program (Pulumi.yaml `main`): reads the stack config, resolves the account, the
 * hosted zone and the model catalog, and wires Identity, Data and Edge. One `pulumi up` per
 * stack creates everything. infra/README.md explains bootstrap, secrets and costs.
 */
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { lambdaCode } from './bundle.js'
import { bedrockResourceArns, readCatalog, selectBedrockModels } from './catalog.js'
import { readStackConfig } from './config.js'
import { Data } from './data.js'
import { Edge, edgeNames } from './edge.js'
import { deployPolicy, oidcProviderArn, policyArn, workloadBoundaryPolicy, type AccountContext } from './iam.js'
import { Identity, identityNames } from './identity.js'

const cfg = readStackConfig()

// --- Where we are -------------------------------------------------------------------------
const [caller, region, partition] = await Promise.all([aws.getCallerIdentity(), aws.getRegion(), aws.getPartition()])
if (region.region !== cfg.region) throw new pulumi.RunError(`provider region ${region.region} differs from aws:region ${cfg.region}`)
const account: AccountContext = { partition: partition.partition, region: region.region, accountId: caller.accountId }

const zone = cfg.hostedZoneId
  ? await aws.route53.getZone({ zoneId: cfg.hostedZoneId })
  : await aws.route53.getZone({ name: cfg.baseDomain, privateZone: false })
if (zone.name.replace(/\.$/, '').toLowerCase() !== cfg.baseDomain) {
  throw new pulumi.RunError(`hosted zone ${zone.zoneId} is "${zone.name}", not the base domain "${cfg.baseDomain}"`)
}

// --- What the Lambda may invoke: derived from the catalog file -----------------------------
const models = selectBedrockModels(readCatalog(cfg.catalogPath), cfg.allowedModels)
const bedrockArns = bedrockResourceArns(models, account)

// --- The bundle (npm run build): index.mjs, its chunks and source maps ---------------------
const code = lambdaCode(cfg.lambdaBundleDir)

// --- Components ---------------------------------------------------------------------------
const idNames = identityNames(cfg.namePrefix)
const edNames = edgeNames(cfg.namePrefix)
const boundaryArn = policyArn(account, idNames.boundaryPolicy)
const passRoles = [
  { name: edNames.executionRole, service: 'lambda.amazonaws.com' },
  ...(cfg.manageApiGatewayAccount ? [{ name: edNames.apiGatewayLogsRole, service: 'apigateway.amazonaws.com' }] : []),
]

const identity = new Identity('identity', {
  namePrefix: cfg.namePrefix,
  githubRepo: cfg.githubRepo,
  existingOidcProviderArn: cfg.githubOidcProviderArn,
  protect: cfg.protectData,
  workloadBoundaryPolicy: JSON.stringify(workloadBoundaryPolicy(account, cfg.namePrefix)),
  deployPolicy: JSON.stringify(deployPolicy({
    ...account,
    namePrefix: cfg.namePrefix,
    hostedZoneId: zone.zoneId,
    apiDomain: cfg.apiDomain,
    stateBucket: cfg.stateBucket ?? `${cfg.project}-state-${account.accountId}-${account.region}`,
    passRoles,
    boundaryPolicyArn: boundaryArn,
    deployRoleName: idNames.deployRole,
    oidcProviderArn: cfg.githubOidcProviderArn ?? oidcProviderArn(account),
  })),
})

const data = new Data('data', { namePrefix: cfg.namePrefix, protect: cfg.protectData })

const environment: Record<string, pulumi.Input<string>> = {
  PENNYWORTH_KEYS_TABLE: data.tableNames.keys,
  PENNYWORTH_USAGE_TABLE: data.tableNames.usage,
  PENNYWORTH_RATE_LIMITS_TABLE: data.tableNames.rateLimits,
  PENNYWORTH_AUDIT_TABLE: data.tableNames.audit,
  PENNYWORTH_LAMBDA_STREAMING: 'true',
  PENNYWORTH_COGNITO_USER_POOL_ID: identity.userPoolId,
  PENNYWORTH_COGNITO_CLIENT_ID: identity.cliClientId,
  PENNYWORTH_PUBLIC_URL: `https://${cfg.apiDomain}`,
  NODE_OPTIONS: '--enable-source-maps',
}
if (cfg.allowedModels.length > 0) environment.PENNYWORTH_MODELS = cfg.allowedModels.join(',')

const edge = new Edge('edge', {
  namePrefix: cfg.namePrefix,
  account,
  code,
  memoryMb: cfg.lambdaMemoryMb,
  reservedConcurrency: cfg.reservedConcurrency,
  environment,
  bedrockResourceArns: bedrockArns,
  tableArns: Object.values(data.tableArns),
  userPoolArn: identity.userPoolArn,
  permissionsBoundaryArn: identity.workloadBoundaryArn,
  apiDomain: cfg.apiDomain,
  hostedZoneId: zone.zoneId,
  stageName: cfg.stageName,
  throttle: cfg.throttle,
  logRetentionDays: cfg.logRetentionDays,
  alarmEmail: cfg.alarmEmail,
  alarms: cfg.alarms,
  manageApiGatewayAccount: cfg.manageApiGatewayAccount,
  disableExecuteApiEndpoint: cfg.disableExecuteApiEndpoint,
})

export const apiUrl = edge.apiUrl
export const awsRegion = account.region
export const userPoolId = identity.userPoolId
export const cliClientId = identity.cliClientId
export const deployRoleArn = identity.deployRoleArn
export const tableNames = data.tableNames
export const functionName = edge.functionName
export const restApiId = edge.restApiId
export const alarmTopicArn = edge.alarmTopicArn
export const bedrockResources = bedrockArns
