/**
 * Local mode's console sign-in, without Cognito: `npm start` prints a link carrying a random,
 * single-use, short-lived login token (in the URL fragment, so it never reaches a server log);
 * the page trades it once for a session token that the admin API accepts as a signed-in admin.
 * Only hashes are kept, in this process's memory: a restart signs everyone out. The HTTP side
 * (loopback only) is app/routes/console.ts; plugins/auth.ts asks verify() for bearer tokens.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { UserPrincipal } from './jwt.js'

/** The principal of a local session: an admin, the owner `local` of the dev key. */
export const LOCAL_ADMIN: Readonly<UserPrincipal> = Object.freeze({
  kind: 'user',
  sub: 'local',
  username: 'local-admin',
  groups: ['admin'],
})

const LOGIN_PREFIX = 'pwl-'
const SESSION_PREFIX = 'pws-'
/** A token as we mint it: prefix + 43 base64url characters (256 random bits). */
const TOKEN = /^pw[ls]-[A-Za-z0-9_-]{43}$/

/** Is a socket's remote address on this machine (IPv4 127/8, IPv6 ::1, IPv4-mapped 127/8)? */
export function isLoopbackAddress(address: string | undefined): boolean {
  const a = address ?? ''
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.')
}

const hash = (token: string) => createHash('sha256').update(token).digest('base64url')
const mint = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`

export interface LocalConsoleLoginOptions {
  /** How long a printed link works (default 10 minutes). */
  linkTtlMs?: number
  /** How long a session lasts (default 12 hours). */
  sessionTtlMs?: number
  now?: () => number
}

/** A session handed to the page. */
export interface LocalSession {
  token: string
  expiresAt: string
}

/** Login links and the sessions they open, in memory. */
export class LocalConsoleLogin {
  private readonly links = new Map<string, number>()
  private readonly sessions = new Map<string, number>()
  private readonly now: () => number
  private readonly linkTtlMs: number
  private readonly sessionTtlMs: number

  constructor(options: LocalConsoleLoginOptions = {}) {
    this.now = options.now ?? Date.now
    this.linkTtlMs = options.linkTtlMs ?? 10 * 60_000
    this.sessionTtlMs = options.sessionTtlMs ?? 12 * 3_600_000
  }

  /** A new login token (print it in the link; it is never stored in clear). */
  issueLink(): string {
    this.prune()
    const token = mint(LOGIN_PREFIX)
    this.links.set(hash(token), this.now() + this.linkTtlMs)
    return token
  }

  /** Trades a login token for a session, once; undefined if unknown, used or expired. */
  exchange(loginToken: string): LocalSession | undefined {
    if (!TOKEN.test(loginToken) || !loginToken.startsWith(LOGIN_PREFIX)) return undefined
    const key = hash(loginToken)
    const expires = this.links.get(key)
    // Deleted whatever the outcome: a token is tried at most once.
    this.links.delete(key)
    if (expires === undefined || expires <= this.now()) return undefined
    const token = mint(SESSION_PREFIX)
    const until = this.now() + this.sessionTtlMs
    this.sessions.set(hash(token), until)
    return { token, expiresAt: new Date(until).toISOString() }
  }

  /** Is this string shaped like a local session token (cheap routing before verify)? */
  looksLikeSession(token: string): boolean {
    return token.startsWith(SESSION_PREFIX) && TOKEN.test(token)
  }

  /** The local admin for a live session token presented from `peer` (a loopback address); undefined otherwise. */
  verify(sessionToken: string, peer: string | undefined): UserPrincipal | undefined {
    if (!isLoopbackAddress(peer) || !this.looksLikeSession(sessionToken)) return undefined
    const key = hash(sessionToken)
    const until = this.sessions.get(key)
    if (until === undefined) return undefined
    if (until <= this.now()) {
      this.sessions.delete(key)
      return undefined
    }
    return { ...LOCAL_ADMIN, groups: [...LOCAL_ADMIN.groups] }
  }

  /** Ends a session (sign-out). */
  revoke(sessionToken: string): void {
    this.sessions.delete(hash(sessionToken))
  }

  private prune(): void {
    const now = this.now()
    for (const m of [this.links, this.sessions]) for (const [k, until] of m) if (until <= now) m.delete(k)
  }
}
