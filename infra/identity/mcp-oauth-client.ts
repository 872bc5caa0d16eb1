/**
 * The Cognito app client of the gateway's MCP OAuth facade (app/routes/oauth.ts): the gateway
 * itself signs people in through Cognito's managed login with it, then issues its own tokens to
 * MCP clients. Separate from the CLI's client (SRP, no redirects) and the console's (browser
 * callback URLs), so each has exactly the flows and callback URLs it needs.
 *
 * Public (no secret: the gateway uses PKCE, and a secret in the Lambda's environment would be
 * one more thing to rotate), authorization code grant only, one exact callback URL
 * (`https://<api domain>/oauth/callback`), scopes openid + email, the pool's own users only.
 * It needs the user pool domain (managed login) that the console work adds to this stack; the
 * edge passes this client's id and that domain as PENNYWORTH_OAUTH_COGNITO_CLIENT_ID and
 * PENNYWORTH_OAUTH_COGNITO_DOMAIN (docs/mcp-oauth.md).
 * https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-client-apps.html
 */
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'

export interface McpOAuthClientArgs {
  /** Prefix of every physical name, e.g. `pennyworth-prod`. */
  namePrefix: string
  userPoolId: pulumi.Input<string>
  /** The gateway's public host, e.g. `api.example.com`: the callback is `https://<apiDomain>/oauth/callback`. */
  apiDomain: pulumi.Input<string>
}

/** The callback URL of the facade's Cognito leg on an API domain. */
export const mcpOAuthCallbackUrl = (apiDomain: string) => `https://${apiDomain}/oauth/callback`

export class McpOAuthClient extends pulumi.ComponentResource {
  readonly clientId: pulumi.Output<string>

  constructor(name: string, args: McpOAuthClientArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pennyworth:infra:McpOAuthClient', name, {}, opts)
    const client = new aws.cognito.UserPoolClient(
      `${name}-client`,
      {
        name: `${args.namePrefix}-mcp-oauth`,
        userPoolId: args.userPoolId,
        generateSecret: false,
        allowedOauthFlowsUserPoolClient: true,
        allowedOauthFlows: ['code'],
        allowedOauthScopes: ['openid', 'email'],
        callbackUrls: [pulumi.output(args.apiDomain).apply(mcpOAuthCallbackUrl)],
        supportedIdentityProviders: ['COGNITO'],
        // Only the managed login signs in here: no password or SRP flows through the API.
        explicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
        // The gateway only reads the person from the access token once; its own tokens follow.
        accessTokenValidity: 5,
        idTokenValidity: 5,
        refreshTokenValidity: 1,
        tokenValidityUnits: { accessToken: 'minutes', idToken: 'minutes', refreshToken: 'days' },
        authSessionValidity: 3,
        preventUserExistenceErrors: 'ENABLED',
        enableTokenRevocation: true,
      },
      { parent: this },
    )
    this.clientId = client.id
    this.registerOutputs({ clientId: this.clientId })
  }
}
