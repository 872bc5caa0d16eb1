/**
 * Identity: the Cognito user pool the admin CLI signs in to, its groups and app client; the
 * GitHub OIDC provider and the deploy role CI assumes; the permissions boundary that caps every
 * role the deploy role may manage.
 */
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST, githubTrustPolicy } from '../iam.js'
import { componentTags } from '../tags.js'

export interface TokenValidity {
  /** Minutes (5–1440). */
  accessTokenMinutes: number
  /** Minutes (5–1440). */
  idTokenMinutes: number
  /** Days (1–3650). */
  refreshTokenDays: number
}

export const DEFAULT_TOKEN_VALIDITY: TokenValidity = { accessTokenMinutes: 60, idTokenMinutes: 60, refreshTokenDays: 7 }

export interface IdentityArgs {
  /** Prefix of every physical name, e.g. `pennyworth-prod`. */
  namePrefix: string
  /** `owner/name` of the GitHub repository whose `main` branch may deploy. */
  githubRepo: string
  /** Branch allowed to assume the deploy role (default `main`). */
  deployBranch?: string
  /**
   * ARN of an existing GitHub OIDC provider. There can be only one per account, so the second
   * stack in an account reuses the first one's; when absent this component creates it.
   */
  existingOidcProviderArn?: pulumi.Input<string>
  /** JSON of the deploy role's policy (infra/deploy-policy.ts `deployPolicy`: what `pulumi up` of the edge needs). */
  deployPolicy: pulumi.Input<string>
  /** JSON of the permissions boundary for workload roles (infra/iam.ts `workloadBoundaryPolicy`). */
  workloadBoundaryPolicy: pulumi.Input<string>
  tokenValidity?: TokenValidity
  /** Pulumi `protect` on the user pool (default true). */
  protect?: boolean
}

/** Names the identity component gives to IAM objects, so other code can build ARNs up front. */
export function identityNames(namePrefix: string) {
  return {
    deployRole: `${namePrefix}-github-deploy`,
    boundaryPolicy: `${namePrefix}-workload-boundary`,
  }
}

export class Identity extends pulumi.ComponentResource {
  readonly userPoolId: pulumi.Output<string>
  readonly userPoolArn: pulumi.Output<string>
  readonly cliClientId: pulumi.Output<string>
  readonly oidcProviderArn: pulumi.Output<string>
  readonly deployRoleArn: pulumi.Output<string>
  readonly workloadBoundaryArn: pulumi.Output<string>

  constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pennyworth:infra:Identity', name, {}, opts)
    const names = identityNames(args.namePrefix)
    const validity = args.tokenValidity ?? DEFAULT_TOKEN_VALIDITY

    const pool = new aws.cognito.UserPool(
      `${name}-users`,
      {
        name: `${args.namePrefix}-users`,
        // Only an admin creates users (AdminCreateUser); nobody signs up.
        adminCreateUserConfig: { allowAdminCreateUserOnly: true },
        usernameAttributes: ['email'],
        autoVerifiedAttributes: ['email'],
        passwordPolicy: {
          minimumLength: 12,
          requireLowercase: true,
          requireUppercase: true,
          requireNumbers: true,
          requireSymbols: true,
          temporaryPasswordValidityDays: 3,
        },
        // TOTP (authenticator app) for everyone; no SMS.
        mfaConfiguration: 'ON',
        softwareTokenMfaConfiguration: { enabled: true },
        accountRecoverySetting: { recoveryMechanisms: [{ name: 'verified_email', priority: 1 }] },
        deletionProtection: 'ACTIVE',
        tags: componentTags('users'),
      },
      { parent: this, protect: args.protect ?? true, retainOnDelete: true },
    )

    for (const [group, precedence, description] of [
      ['admin', 0, 'Manages keys, users and usage through the admin API'],
      ['user', 10, 'Manages their own API keys'],
    ] as const) {
      new aws.cognito.UserGroup(
        `${name}-group-${group}`,
        {
          userPoolId: pool.id,
          name: group,
          precedence,
          description,
        },
        { parent: this },
      )
    }

    const client = new aws.cognito.UserPoolClient(
      `${name}-cli`,
      {
        name: `${args.namePrefix}-cli`,
        userPoolId: pool.id,
        // A CLI cannot keep a secret.
        generateSecret: false,
        explicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        accessTokenValidity: validity.accessTokenMinutes,
        idTokenValidity: validity.idTokenMinutes,
        refreshTokenValidity: validity.refreshTokenDays,
        tokenValidityUnits: { accessToken: 'minutes', idToken: 'minutes', refreshToken: 'days' },
        authSessionValidity: 3,
        preventUserExistenceErrors: 'ENABLED',
        enableTokenRevocation: true,
      },
      { parent: this },
    )

    const oidcProviderArn = args.existingOidcProviderArn
      ? pulumi.output(args.existingOidcProviderArn)
      : new aws.iam.OpenIdConnectProvider(
          `${name}-github-oidc`,
          {
            url: `https://${GITHUB_OIDC_HOST}`,
            clientIdLists: [GITHUB_OIDC_AUDIENCE],
            tags: componentTags('ci'),
          },
          { parent: this },
        ).arn

    const boundary = new aws.iam.Policy(
      `${name}-workload-boundary`,
      {
        name: names.boundaryPolicy,
        description: 'Permissions boundary of every role the deploy role may create or change',
        policy: args.workloadBoundaryPolicy,
        tags: componentTags('ci'),
      },
      { parent: this },
    )

    const deployRole = new aws.iam.Role(
      `${name}-deploy-role`,
      {
        name: names.deployRole,
        description: `GitHub Actions deploy role for ${args.namePrefix} (OIDC, ${args.deployBranch ?? 'main'} only)`,
        assumeRolePolicy: oidcProviderArn.apply((arn) =>
          JSON.stringify(
            githubTrustPolicy({
              oidcProviderArn: arn,
              repo: args.githubRepo,
              branch: args.deployBranch ?? 'main',
            }),
          ),
        ),
        maxSessionDuration: 3600,
        tags: componentTags('ci'),
      },
      { parent: this },
    )

    new aws.iam.RolePolicy(
      `${name}-deploy-policy`,
      {
        name: 'deploy',
        role: deployRole.name,
        policy: args.deployPolicy,
      },
      { parent: this },
    )

    this.userPoolId = pool.id
    this.userPoolArn = pool.arn
    this.cliClientId = client.id
    this.oidcProviderArn = oidcProviderArn
    this.deployRoleArn = deployRole.arn
    this.workloadBoundaryArn = boundary.arn
    this.registerOutputs({
      userPoolId: this.userPoolId,
      userPoolArn: this.userPoolArn,
      cliClientId: this.cliClientId,
      oidcProviderArn: this.oidcProviderArn,
      deployRoleArn: this.deployRoleArn,
      workloadBoundaryArn: this.workloadBoundaryArn,
    })
  }
}
