/**
 * The edge program (project `pennyworth`, the repository's top-level Pulumi.yaml): the Lambda,
 * its REST API with response streaming, domain, certificate, DNS, logs, alarms and the
 * reconcile schedule. Deployed by CI on every merge to main, with the deploy role that the
 * identity stack created. Reads the identity and data stacks through `pulumi.StackReference`
 * (nothing is copied by hand between stacks). infra/README.md explains the order.
 */
import * as pulumi from '@pulumi/pulumi'
import { lambdaCode } from '../bundle.js'
import { bedrockResourceArns, readCatalog, selectBedrockModels } from '../catalog.js'
import { ENV } from '../../app/config-env.js'
import { TABLE_ENV_VARS, TABLE_KEYS } from '../components/data.js'
import { Edge } from '../components/edge.js'
import {
  DATA_OUTPUT_KEYS,
  IDENTITY_OUTPUT_KEYS,
  lookupZone,
  referencedOutputs,
  startProgram,
  type DataOutputs,
  type IdentityOutputs,
} from '../program.js'
import { stackName } from '../stacks.js'

const { cfg, provider, account } = await startProgram('edge')
const zone = await lookupZone(cfg, provider)

// --- The other stacks of this environment (same stack name, infra/stacks.ts) ----------------
const expect = { region: account.region, namePrefix: cfg.namePrefix }
const identity = referencedOutputs<IdentityOutputs>(
  new pulumi.StackReference('identity-stack', { name: stackName('identity', cfg.stack, cfg.stackOrganization) }),
  IDENTITY_OUTPUT_KEYS,
  expect,
)
const data = referencedOutputs<DataOutputs>(
  new pulumi.StackReference('data-stack', { name: stackName('data', cfg.stack, cfg.stackOrganization) }),
  DATA_OUTPUT_KEYS,
  expect,
)

// --- What the Lambda may invoke: derived from the catalog file -----------------------------
const models = selectBedrockModels(readCatalog(cfg.catalogPath), cfg.allowedModels)
const bedrockArns = bedrockResourceArns(models, account)

// --- The bundle (npm run build): index.mjs, its chunks and source maps ---------------------
const code = lambdaCode(cfg.lambdaBundleDir)

const environment: Record<string, pulumi.Input<string>> = {
  ...Object.fromEntries(TABLE_KEYS.map((key) => [TABLE_ENV_VARS[key], data.apply((d) => d.tableNames[key])])),
  [ENV.lambdaStreaming]: 'true',
  [ENV.cognitoUserPoolId]: identity.userPoolId,
  [ENV.cognitoClientId]: identity.cliClientId,
  [ENV.consoleClientId]: identity.consoleClientId,
  [ENV.cognitoLoginUrl]: identity.loginUrl,
  // The MCP OAuth facade signs people in through the same managed login, with its own client.
  [ENV.oauthCognitoDomain]: identity.loginUrl,
  [ENV.oauthCognitoClientId]: identity.mcpOAuthClientId,
  [ENV.publicUrl]: `https://${cfg.apiDomain}`,
  NODE_OPTIONS: '--enable-source-maps',
  // X-Ray subsegments per Bedrock and DynamoDB call (the function has active tracing).
  [ENV.tracing]: cfg.tracing ? 'true' : 'false',
}
if (cfg.allowedModels.length > 0) environment[ENV.models] = cfg.allowedModels.join(',')
if (cfg.s3InputBuckets.length > 0) environment[ENV.s3Buckets] = cfg.s3InputBuckets.join(',')

const edge = new Edge(
  'edge',
  {
    namePrefix: cfg.namePrefix,
    account,
    code,
    memoryMb: cfg.lambdaMemoryMb,
    reservedConcurrency: cfg.reservedConcurrency,
    environment,
    bedrockResourceArns: bedrockArns,
    tableArns: data.apply((d) => TABLE_KEYS.map((key) => d.tableArns[key])),
    userPoolArn: identity.userPoolArn,
    s3InputBuckets: cfg.s3InputBuckets.map((b) => b.split(':')[0]),
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
    observability: cfg.observability,
    tracing: cfg.tracing,
  },
  { providers: { aws: provider } },
)

export const apiUrl = edge.apiUrl
export const awsRegion = account.region
export const namePrefix = cfg.namePrefix
export const functionName = edge.functionName
export const restApiId = edge.restApiId
export const alarmTopicArn = edge.alarmTopicArn
export const reconcileRuleArn = edge.reconcileRuleArn
export const dashboardName = edge.dashboardName
export const bedrockResources = bedrockArns
