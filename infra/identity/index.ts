/**
 * The identity program (project `pennyworth-identity`, infra/identity/Pulumi.yaml): the Cognito
 * user pool, its groups and CLI client; the GitHub OIDC provider; the CI deploy role with its
 * edge-only policy; the permissions boundary of the edge's roles. Deployed by an admin with
 * their own credentials, rarely. infra/README.md explains the order and the permissions.
 */
import { Identity, identityNames } from '../components/identity.js'
import { edgeNames, edgePassRoles } from '../components/edge.js'
import { deployPolicy } from '../deploy-policy.js'
import { policyArn, workloadBoundaryPolicy } from '../iam.js'
import { McpOAuthClient } from './mcp-oauth-client.js'
import { lookupZone, startProgram, stateBucketName, type IdentityOutputs } from '../program.js'
import { STATE_META_KEY, stateKeys } from '../stacks.js'

const { cfg, provider, account } = await startProgram('identity')
const zone = await lookupZone(cfg, provider)

const idNames = identityNames(cfg.namePrefix)
const edge = stateKeys('edge', cfg.stack)

const identity = new Identity(
  'identity',
  {
    namePrefix: cfg.namePrefix,
    githubRepo: cfg.githubRepo,
    existingOidcProviderArn: cfg.githubOidcProviderArn,
    protect: cfg.protectData,
    // The web console (app/routes/console.ts) on the API's own domain; the login domain prefix
    // carries the account id, so it is unique across accounts in the region.
    console: {
      callbackUrls: [`https://${cfg.apiDomain}/console/`],
      domainPrefix: `${cfg.namePrefix}-${account.accountId}`,
      region: account.region,
    },
    workloadBoundaryPolicy: JSON.stringify(workloadBoundaryPolicy(account, cfg.namePrefix)),
    // What `pulumi up` of the edge needs, nothing of identity or data.
    deployPolicy: JSON.stringify(
      deployPolicy({
        ...account,
        namePrefix: cfg.namePrefix,
        hostedZoneId: zone.zoneId,
        apiDomain: cfg.apiDomain,
        stateBucket: stateBucketName(cfg, account),
        state: {
          ownCheckpoint: edge.checkpoint,
          ownPrefixes: edge.prefixes,
          // `*`: the backend also probes `<env>.json.gz` (HEAD needs s3:GetObject; a 403 would fail the reference).
          readOnly: [
            STATE_META_KEY,
            `${stateKeys('identity', cfg.stack).checkpoint}*`,
            `${stateKeys('data', cfg.stack).checkpoint}*`,
          ],
        },
        passRoles: edgePassRoles(edgeNames(cfg.namePrefix), cfg.manageApiGatewayAccount),
        boundaryPolicyArn: policyArn(account, idNames.boundaryPolicy),
      }),
    ),
  },
  { providers: { aws: provider } },
)

// The MCP OAuth facade's Cognito leg (app/routes/oauth.ts): its own public client, one callback.
const mcpOAuth = new McpOAuthClient(
  'identity-mcp-oauth',
  { namePrefix: cfg.namePrefix, userPoolId: identity.userPoolId, apiDomain: cfg.apiDomain },
  { providers: { aws: provider } },
)

export const awsRegion: IdentityOutputs['awsRegion'] = account.region
export const namePrefix: IdentityOutputs['namePrefix'] = cfg.namePrefix
export const userPoolId = identity.userPoolId
export const userPoolArn = identity.userPoolArn
export const cliClientId = identity.cliClientId
export const consoleClientId = identity.consoleClientId
export const loginUrl = identity.loginUrl
export const mcpOAuthClientId = mcpOAuth.clientId
export const workloadBoundaryArn = identity.workloadBoundaryArn
export const deployRoleArn = identity.deployRoleArn
export const oidcProviderArn = identity.oidcProviderArn
