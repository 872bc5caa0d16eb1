/**
 * The CLI's sign-in: discovery (GET /v1/.well-known/pennyworth), Cognito USER_SRP_AUTH (or
 * USER_PASSWORD_AUTH where SRP is unavailable, e.g. cognito-local), the challenges
 * NEW_PASSWORD_REQUIRED, SOFTWARE_TOKEN_MFA, SELECT_MFA_TYPE and MFA_SETUP (TOTP enrolment), and
 * the token cache `~/.pennyworth/credentials.json` (directory 0700, file 0600), refreshed with
 * the refresh token shortly before the access token expires.
 */
import type {
  AuthenticationResultType,
  ChallengeNameType,
  CognitoIdentityProviderClient,
  InitiateAuthCommandOutput,
} from '@aws-sdk/client-cognito-identity-provider'
import { decodeJwt } from 'jose'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { CliError, EXIT, usageError } from './errors.js'
import { SrpClient } from './srp.js'
import type { Io, Prompter } from './ui.js'

/** The part of GET /v1/.well-known/pennyworth the CLI uses. */
export interface Discovery {
  apiVersion: string
  auth: { type: 'cognito'; region: string; userPoolId: string; clientId: string; authFlows: string[] } | null
}

/** Admin API versions this CLI speaks. */
const SUPPORTED_API_VERSIONS = new Set(['1'])

export interface Session {
  apiUrl: string
  region: string
  userPoolId: string
  clientId: string
  /** What the person signed in with (e-mail). */
  username: string
  accessToken: string
  idToken: string
  refreshToken: string
  /** Epoch ms when the access token expires. */
  expiresAt: number
}

interface CredentialsFile {
  current?: string
  sessions: Record<string, Session>
}

/** `https://api.example.com/v1/` → `https://api.example.com`. */
export function normalizeApiUrl(raw: string): string {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    throw usageError(`--api-url: "${raw}" is not a URL`)
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw usageError(`--api-url: "${raw}" is not an http(s) URL`)
  return `${u.origin}${u.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}`
}

/** The token cache. One session per gateway URL; `current` is the last one signed in to. */
export class SessionStore {
  readonly file: string

  constructor(readonly dir: string) {
    this.file = join(dir, 'credentials.json')
  }

  static fromEnv(env: NodeJS.ProcessEnv): SessionStore {
    return new SessionStore(env.PENNYWORTH_HOME || join(homedir(), '.pennyworth'))
  }

  read(): CredentialsFile {
    if (!existsSync(this.file)) return { sessions: {} }
    // Someone loosened the permissions: tighten them before reading secrets from the file.
    if ((statSync(this.file).mode & 0o077) !== 0) chmodSync(this.file, 0o600)
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as CredentialsFile
      return { current: parsed.current, sessions: parsed.sessions ?? {} }
    } catch {
      return { sessions: {} }
    }
  }

  private write(data: CredentialsFile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const tmp = `${this.file}.${process.pid}.tmp`
    writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 })
    chmodSync(tmp, 0o600) // whatever the umask
    renameSync(tmp, this.file)
  }

  get(apiUrl: string): Session | undefined {
    return this.read().sessions[apiUrl]
  }

  current(): string | undefined {
    return this.read().current
  }

  save(session: Session): void {
    const data = this.read()
    data.sessions[session.apiUrl] = session
    data.current = session.apiUrl
    this.write(data)
  }

  remove(apiUrl: string): void {
    const data = this.read()
    delete data.sessions[apiUrl]
    if (data.current === apiUrl) delete data.current
    this.write(data)
  }
}

export async function discover(apiUrl: string): Promise<Discovery> {
  let res: Response
  try {
    res = await fetch(`${apiUrl}/v1/.well-known/pennyworth`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(15_000),
    })
  } catch (err) {
    throw new CliError(
      `cannot reach ${apiUrl}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`,
    )
  }
  if (!res.ok)
    throw new CliError(
      `${apiUrl} does not look like a pennyworth gateway (GET /v1/.well-known/pennyworth answered ${res.status})`,
    )
  const doc = (await res.json()) as Discovery
  if (!SUPPORTED_API_VERSIONS.has(doc.apiVersion)) {
    throw new CliError(
      `${apiUrl} speaks admin API version ${doc.apiVersion}; this CLI speaks ` +
        `${[...SUPPORTED_API_VERSIONS].join(', ')} — update the CLI`,
    )
  }
  if (!doc.auth) throw new CliError(`sign-in is not configured on ${apiUrl} (no Cognito user pool)`)
  return doc
}

type Sdk = typeof import('@aws-sdk/client-cognito-identity-provider')

/** The SDK loads only when Cognito is called (sign-in, refresh, sign-out): other commands start faster. */
async function cognitoClient(
  region: string,
  env: NodeJS.ProcessEnv,
): Promise<{ client: CognitoIdentityProviderClient; sdk: Sdk }> {
  const sdk = await import('@aws-sdk/client-cognito-identity-provider')
  // Sign-in calls are unauthenticated (no AWS credentials needed). The endpoint can be overridden
  // with the SDK's standard AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER (cognito-local), read from
  // the environment main() was given (the SDK itself would read process.env only).
  const endpoint = env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER || env.AWS_ENDPOINT_URL || undefined
  return { client: new sdk.CognitoIdentityProviderClient({ region, maxAttempts: 2, endpoint }), sdk }
}

/** Cognito's error for a wrong password, a disabled user, a bad code… as a readable CliError. */
/** Cognito's answers that mean "these credentials do not sign in", not "something broke". */
const SIGN_IN_REFUSALS = new RegExp(
  [
    'NotAuthorized',
    'InvalidPassword',
    'UserNotFound',
    'CodeMismatch',
    'ExpiredCode',
    'PasswordResetRequired',
    'UserNotConfirmed',
    'EnableSoftwareTokenMFA',
    'TooManyRequests',
    'LimitExceeded',
  ].join('|'),
)

function signInError(err: unknown): CliError {
  const name = (err as { name?: string }).name ?? ''
  const message = (err as Error).message
  if (SIGN_IN_REFUSALS.test(name)) {
    return new CliError(`sign-in failed: ${message}`, EXIT.auth)
  }
  return new CliError(`sign-in failed (${name || 'error'}): ${message}`)
}

const isUnsupportedFlow = (err: unknown) => {
  const e = err as { name?: string; message?: string }
  return /Unsupported/i.test(e.name ?? '') || /unsupported|not enabled|not supported/i.test(e.message ?? '')
}

export interface LoginOptions {
  username?: string
  /** `srp`, `password` or `auto` (SRP where the pool offers it, else password). */
  flow?: string
  env: NodeJS.ProcessEnv
}

/** Signs in and stores the session. */
export async function login(
  apiUrl: string,
  io: Io,
  prompter: Prompter,
  store: SessionStore,
  opts: LoginOptions,
): Promise<Session> {
  const doc = await discover(apiUrl)
  const auth = doc.auth!
  const flow = opts.flow ?? 'auto'
  if (!['auto', 'srp', 'password'].includes(flow)) throw usageError('--flow must be srp, password or auto')
  const username = opts.username ?? opts.env.PENNYWORTH_USERNAME ?? (await prompter.ask('E-mail: '))
  if (!username) throw usageError('a user name is needed (--username)')
  const password = opts.env.PENNYWORTH_PASSWORD ?? (await prompter.ask('Password: ', { secret: true }))
  const { client, sdk } = await cognitoClient(auth.region, opts.env)
  const { InitiateAuthCommand } = sdk
  try {
    let out: InitiateAuthCommandOutput | undefined
    const srpOffered = auth.authFlows.includes('USER_SRP_AUTH')
    if (flow === 'srp' || (flow === 'auto' && srpOffered)) {
      try {
        out = await srpSignIn(client, sdk, auth.clientId, auth.userPoolId, username, password)
      } catch (err) {
        if (flow === 'srp' || !isUnsupportedFlow(err) || !auth.authFlows.includes('USER_PASSWORD_AUTH')) throw err
        io.err('pennyworth: SRP sign-in is not available here; signing in with USER_PASSWORD_AUTH (over TLS) instead.')
      }
    }
    out ??= await client.send(
      new InitiateAuthCommand({
        ClientId: auth.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    )
    const result = await challenges(client, sdk, auth.clientId, username, out, io, prompter, opts.env)
    const session: Session = {
      apiUrl,
      region: auth.region,
      userPoolId: auth.userPoolId,
      clientId: auth.clientId,
      username,
      accessToken: result.AccessToken!,
      idToken: result.IdToken ?? '',
      refreshToken: result.RefreshToken ?? '',
      expiresAt: expiryOf(result.AccessToken!, result.ExpiresIn),
    }
    store.save(session)
    return session
  } catch (err) {
    throw err instanceof CliError ? err : signInError(err)
  } finally {
    client.destroy()
  }
}

function expiryOf(accessToken: string, expiresIn: number | undefined): number {
  const exp = decodeJwt(accessToken).exp
  return exp !== undefined ? exp * 1000 : Date.now() + (expiresIn ?? 3600) * 1000
}

async function srpSignIn(
  client: CognitoIdentityProviderClient,
  { InitiateAuthCommand, RespondToAuthChallengeCommand }: Sdk,
  clientId: string,
  userPoolId: string,
  username: string,
  password: string,
): Promise<InitiateAuthCommandOutput> {
  const srp = new SrpClient(userPoolId)
  const init = await client.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: 'USER_SRP_AUTH',
      AuthParameters: { USERNAME: username, SRP_A: srp.srpA },
    }),
  )
  if (init.ChallengeName !== 'PASSWORD_VERIFIER') return init
  return client.send(
    new RespondToAuthChallengeCommand({
      ClientId: clientId,
      ChallengeName: 'PASSWORD_VERIFIER',
      Session: init.Session,
      ChallengeResponses: srp.answer(init.ChallengeParameters ?? {}, password),
    }),
  )
}

/** Answers challenges until Cognito hands out tokens. */
async function challenges(
  client: CognitoIdentityProviderClient,
  sdk: Sdk,
  clientId: string,
  username: string,
  first: {
    ChallengeName?: ChallengeNameType | string
    ChallengeParameters?: Record<string, string>
    Session?: string
    AuthenticationResult?: AuthenticationResultType
  },
  io: Io,
  prompter: Prompter,
  env: NodeJS.ProcessEnv,
): Promise<AuthenticationResultType> {
  const { AssociateSoftwareTokenCommand, RespondToAuthChallengeCommand, VerifySoftwareTokenCommand } = sdk
  let step = first
  for (let round = 0; round < 8; round++) {
    if (step.AuthenticationResult?.AccessToken) return step.AuthenticationResult
    const name = step.ChallengeName
    const user = step.ChallengeParameters?.USER_ID_FOR_SRP ?? step.ChallengeParameters?.USERNAME ?? username
    const respond = (responses: Record<string, string>, session = step.Session, challenge = name) =>
      client.send(
        new RespondToAuthChallengeCommand({
          ClientId: clientId,
          ChallengeName: challenge as ChallengeNameType,
          Session: session,
          ChallengeResponses: { USERNAME: user, ...responses },
        }),
      )
    switch (name) {
      case 'NEW_PASSWORD_REQUIRED': {
        io.err('pennyworth: a new password is required (first sign-in or reset).')
        let next = env.PENNYWORTH_NEW_PASSWORD
        if (!next) {
          next = await prompter.ask('New password: ', { secret: true })
          if (next !== (await prompter.ask('New password again: ', { secret: true })))
            throw new CliError('the two new passwords differ', EXIT.auth)
        }
        step = await respond({ NEW_PASSWORD: next })
        break
      }
      case 'SELECT_MFA_TYPE':
        step = await respond({ ANSWER: 'SOFTWARE_TOKEN_MFA' })
        break
      case 'SOFTWARE_TOKEN_MFA':
        step = await respond({ SOFTWARE_TOKEN_MFA_CODE: await prompter.ask('Authenticator code: ') })
        break
      case 'SMS_MFA':
        step = await respond({ SMS_MFA_CODE: await prompter.ask('Code sent by SMS: ') })
        break
      case 'EMAIL_OTP':
        step = await respond({ EMAIL_OTP_CODE: await prompter.ask('Code sent by e-mail: ') })
        break
      case 'MFA_SETUP': {
        // The pool requires TOTP and this person has none yet: enrol an authenticator app now.
        const assoc = await client.send(new AssociateSoftwareTokenCommand({ Session: step.Session }))
        const label = encodeURIComponent(`pennyworth:${username}`)
        io.err('pennyworth: set up an authenticator app (TOTP) — add this secret to it:')
        io.err(`  secret: ${assoc.SecretCode}`)
        io.err(`  or the URI: otpauth://totp/${label}?secret=${assoc.SecretCode}&issuer=pennyworth`)
        const verified = await client.send(
          new VerifySoftwareTokenCommand({
            Session: assoc.Session,
            UserCode: await prompter.ask('Code from the app: '),
            FriendlyDeviceName: 'pennyworth CLI',
          }),
        )
        if (verified.Status !== 'SUCCESS') throw new CliError('the authenticator code was not accepted', EXIT.auth)
        step = await respond({}, verified.Session, 'MFA_SETUP')
        break
      }
      default:
        throw new CliError(`sign-in needs "${name ?? 'unknown'}", which this CLI does not support`, EXIT.auth)
    }
  }
  throw new CliError('sign-in did not finish (too many challenges)', EXIT.auth)
}

/** Refresh this many ms before expiry, so a token does not expire in flight. */
const REFRESH_EARLY_MS = 60_000

/** A valid access token for the gateway, refreshed when it is (about to be) expired. */
export async function accessToken(
  store: SessionStore,
  apiUrl: string,
  env: NodeJS.ProcessEnv,
  opts: { force?: boolean; now?: number } = {},
): Promise<{ token: string; session: Session }> {
  const session = store.get(apiUrl)
  if (!session) throw new CliError(`not signed in to ${apiUrl}; run: pennyworth login --api-url ${apiUrl}`, EXIT.auth)
  if (!opts.force && session.expiresAt - REFRESH_EARLY_MS > (opts.now ?? Date.now()))
    return { token: session.accessToken, session }
  if (!session.refreshToken)
    throw new CliError(`your session on ${apiUrl} has expired; run: pennyworth login`, EXIT.auth)
  const { client, sdk } = await cognitoClient(session.region, env)
  try {
    const out = await client.send(
      new sdk.InitiateAuthCommand({
        ClientId: session.clientId,
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        AuthParameters: { REFRESH_TOKEN: session.refreshToken },
      }),
    )
    const r = out.AuthenticationResult
    if (!r?.AccessToken) throw new CliError('token refresh returned no token; run: pennyworth login', EXIT.auth)
    const refreshed: Session = {
      ...session,
      accessToken: r.AccessToken,
      idToken: r.IdToken ?? session.idToken,
      refreshToken: r.RefreshToken ?? session.refreshToken,
      expiresAt: expiryOf(r.AccessToken, r.ExpiresIn),
    }
    store.save(refreshed)
    return { token: refreshed.accessToken, session: refreshed }
  } catch (err) {
    if (err instanceof CliError) throw err
    if (/NotAuthorized/.test((err as Error).name)) {
      store.remove(apiUrl)
      throw new CliError(
        `your session on ${apiUrl} has ended (${(err as Error).message}); run: pennyworth login`,
        EXIT.auth,
      )
    }
    throw new CliError(`cannot refresh the sign-in: ${(err as Error).message}`)
  } finally {
    client.destroy()
  }
}

/** Forgets the session; revokes its refresh token at Cognito (best effort). */
export async function logout(store: SessionStore, apiUrl: string, io: Io, env: NodeJS.ProcessEnv): Promise<boolean> {
  const session = store.get(apiUrl)
  if (!session) return false
  if (session.refreshToken) {
    const { client, sdk } = await cognitoClient(session.region, env)
    try {
      await client.send(new sdk.RevokeTokenCommand({ ClientId: session.clientId, Token: session.refreshToken }))
    } catch (err) {
      io.err(
        `pennyworth: could not revoke the refresh token at Cognito ` +
          `(${(err as Error).message}); it is forgotten here anyway.`,
      )
    } finally {
      client.destroy()
    }
  }
  store.remove(apiUrl)
  return true
}
