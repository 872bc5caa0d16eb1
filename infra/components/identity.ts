/**
 * Identity: the Cognito user pool the admin CLI and the web console sign in to, its groups, the
 * CLI's app client and the console's (managed login, authorization code + PKCE) with the pool's
 * login domain; the
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
  /** The web console's sign-in; absent = no console client and no login domain. */
  console?: ConsoleSignInArgs
}

/** The console's public app client and the pool's managed login domain (both free at rest). */
export interface ConsoleSignInArgs {
  /**
   * Exact redirect URLs after sign-in, e.g. `https://api.example.com/console/` (no wildcards:
   * Cognito compares them exactly, so a code can only go back to the console).
   */
  callbackUrls: string[]
  /** Where sign-out may return to (default: the callback URLs). */
  logoutUrls?: string[]
  /**
   * Prefix of the Cognito login domain `https://<prefix>.auth.<region>.amazoncognito.com`
   * (unique per region across AWS accounts: lowercase letters, digits, hyphens).
   */
  domainPrefix: string
  /** The pool's region, for the login URL. */
  region: string
}

/** The managed login base URL of a Cognito prefix domain. */
export const loginUrl = (domainPrefix: string, region: string) =>
  `https://${domainPrefix}.auth.${region}.amazoncognito.com`

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
  /** The console's app client; empty string when the console is not configured. */
  readonly consoleClientId: pulumi.Output<string>
  /** The managed login base URL; empty string when the console is not configured. */
  readonly loginUrl: pulumi.Output<string>
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

    let consoleClientId = pulumi.output('')
    let consoleLoginUrl = pulumi.output('')
    if (args.console) {
      const c = args.console
      if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(c.domainPrefix) || /aws|amazon|cognito/.test(c.domainPrefix))
        throw new pulumi.RunError(`not a Cognito domain prefix: "${c.domainPrefix}"`)
      for (const u of [...c.callbackUrls, ...(c.logoutUrls ?? [])]) {
        const url = new URL(u)
        // Cognito allows http only for localhost; a wildcard or fragment would widen where codes go.
        if ((url.protocol !== 'https:' && url.hostname !== 'localhost') || /[*#]/.test(u))
          throw new pulumi.RunError(`console callback/logout URL must be exact https: "${u}"`)
      }
      // Classic hosted UI (version 1): needs no branding resource; MFA (TOTP) as the pool requires.
      const domain = new aws.cognito.UserPoolDomain(
        `${name}-login`,
        { domain: c.domainPrefix, userPoolId: pool.id, managedLoginVersion: 1 },
        { parent: this },
      )
      const consoleClient = new aws.cognito.UserPoolClient(
        `${name}-console`,
        {
          name: `${args.namePrefix}-console`,
          userPoolId: pool.id,
          // A browser app cannot keep a secret: public client, PKCE.
          generateSecret: false,
          allowedOauthFlowsUserPoolClient: true,
          allowedOauthFlows: ['code'],
          allowedOauthScopes: ['openid', 'email', 'profile'],
          supportedIdentityProviders: ['COGNITO'],
          callbackUrls: c.callbackUrls,
          logoutUrls: c.logoutUrls ?? c.callbackUrls,
          // Sign-in happens on the managed login only; the page itself refreshes tokens.
          explicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
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
      consoleClientId = consoleClient.id
      consoleLoginUrl = domain.domain.apply((d) => loginUrl(d, c.region))
    }

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
    this.consoleClientId = consoleClientId
    this.loginUrl = consoleLoginUrl
    this.oidcProviderArn = oidcProviderArn
    this.deployRoleArn = deployRole.arn
    this.workloadBoundaryArn = boundary.arn
    this.registerOutputs({
      userPoolId: this.userPoolId,
      userPoolArn: this.userPoolArn,
      cliClientId: this.cliClientId,
      consoleClientId: this.consoleClientId,
      loginUrl: this.loginUrl,
      oidcProviderArn: this.oidcProviderArn,
      deployRoleArn: this.deployRoleArn,
      workloadBoundaryArn: this.workloadBoundaryArn,
    })
  }
}
