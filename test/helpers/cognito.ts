/**
 * cognito-local for tests: a child process on 127.0.0.1 with a free port and a temporary data
 * dir (it writes ./.cognito under its cwd), a user pool and app client shaped like infra's
 * (no secret; password, refresh flows), the groups `admin` and `user`, and signed-in users:
 * `admin` (group admin), `user` and `other` (group user), `nobody` (no group). Stopped in
 * t.teardown. Tokens are real RS256 JWTs signed by cognito-local's key.
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { decodeJwt } from 'jose'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const START = resolve('node_modules/cognito-local/lib/bin/start.js')
export const COGNITO_REGION = 'us-east-1'
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' }

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface Tokens {
  accessToken: string
  idToken: string
  refreshToken: string
}

export interface TestUser {
  /** What the person signs in with (an e-mail: the pool signs in by e-mail, like infra's). */
  username: string
  password: string
  sub: string
  /** The pool's internal user name (an opaque id, as in real Cognito with e-mail sign-in). */
  cognitoUsername: string
  groups: string[]
  tokens: Tokens
}

export interface TestCognito {
  /** http://127.0.0.1:<port> — the Cognito API endpoint (AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER). */
  endpoint: string
  region: string
  userPoolId: string
  clientId: string
  issuer: string
  jwksUrl: string
  /** The PENNYWORTH_COGNITO_* variables for loadConfig. */
  env: Record<string, string>
  /** An SDK client pointed at it (for the app's user admin and for test set-up). */
  client: CognitoIdentityProviderClient
  users: Record<'admin' | 'user' | 'other' | 'nobody', TestUser>
  createUser(
    username: string,
    opts?: { group?: string; password?: string; permanent?: boolean },
  ): Promise<{ username: string; password: string }>
  signIn(username: string, password: string): Promise<Tokens>
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => ok(port))
    })
    s.on('error', fail)
  })
}

/** Starts cognito-local and waits until it answers; the issuer embeds the port, so pick it first. */
async function startProcess(t: Teardown): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    const cwd = mkdtempSync(join(tmpdir(), 'pennyworth-cognito-'))
    const child = spawn(process.execPath, [START], {
      cwd,
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
    })
    child.stderr!.on('data', (d) => {
      out += d
    })
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()))
    t.teardown(async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await exited
      }
      rmSync(cwd, { recursive: true, force: true })
    })
    const deadline = Date.now() + 20_000
    while (!out.includes('Cognito Local running on')) {
      if (child.exitCode !== null || Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 25))
    }
    if (out.includes('Cognito Local running on')) return `http://127.0.0.1:${port}`
    if (child.exitCode === null) child.kill('SIGKILL')
    if (!/EADDRINUSE/.test(out) || attempt >= 3) throw new Error(`cognito-local did not start: ${out}`)
  }
}

export async function startCognito(t: Teardown, opts: { accessTokenMinutes?: number } = {}): Promise<TestCognito> {
  const endpoint = await startProcess(t)
  const client = new CognitoIdentityProviderClient({
    endpoint,
    region: COGNITO_REGION,
    credentials: CREDENTIALS,
    maxAttempts: 1,
  })
  t.teardown(() => client.destroy())
  const pool = await client.send(
    new CreateUserPoolCommand({ PoolName: 'pennyworth-test', MfaConfiguration: 'OPTIONAL' }),
  )
  const userPoolId = pool.UserPool!.Id!
  const app = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientName: 'cli',
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      AccessTokenValidity: opts.accessTokenMinutes ?? 60,
      IdTokenValidity: 60,
      RefreshTokenValidity: 7,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'days' },
    }),
  )
  const clientId = app.UserPoolClient!.ClientId!
  for (const GroupName of ['admin', 'user'])
    await client.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName }))

  let n = 0
  const createUser: TestCognito['createUser'] = async (username, o = {}) => {
    const password = o.password ?? `Pw-${++n}-${Math.random().toString(36).slice(2)}A!`
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: username,
        MessageAction: 'SUPPRESS',
        TemporaryPassword: password,
        UserAttributes: [
          { Name: 'email', Value: username.includes('@') ? username : `${username}@example.com` },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    )
    if (o.permanent !== false)
      await client.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: userPoolId,
          Username: username,
          Password: password,
          Permanent: true,
        }),
      )
    if (o.group)
      await client.send(
        new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: username, GroupName: o.group }),
      )
    return { username, password }
  }
  const signIn: TestCognito['signIn'] = async (username, password) => {
    const out = await client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    )
    const r = out.AuthenticationResult
    if (!r?.AccessToken) throw new Error(`sign-in of ${username} did not finish: ${out.ChallengeName}`)
    return { accessToken: r.AccessToken, idToken: r.IdToken!, refreshToken: r.RefreshToken! }
  }
  const users = {} as TestCognito['users']
  for (const [name, group] of [
    ['admin', 'admin'],
    ['user', 'user'],
    ['other', 'user'],
    ['nobody', undefined],
  ] as const) {
    const { username, password } = await createUser(`${name}@example.com`, { group })
    const tokens = await signIn(username, password)
    const claims = decodeJwt(tokens.accessToken)
    users[name] = {
      username,
      password,
      tokens,
      sub: claims.sub!,
      cognitoUsername: String(claims.username),
      groups: group ? [group] : [],
    }
  }
  const issuer = `${endpoint}/${userPoolId}`
  const jwksUrl = `${issuer}/.well-known/jwks.json`
  return {
    endpoint,
    region: COGNITO_REGION,
    userPoolId,
    clientId,
    issuer,
    jwksUrl,
    client,
    users,
    createUser,
    signIn,
    env: {
      PENNYWORTH_COGNITO_USER_POOL_ID: userPoolId,
      PENNYWORTH_COGNITO_CLIENT_ID: clientId,
      PENNYWORTH_COGNITO_REGION: COGNITO_REGION,
      PENNYWORTH_COGNITO_ISSUER: issuer,
      PENNYWORTH_COGNITO_JWKS_URL: jwksUrl,
    },
  }
}
