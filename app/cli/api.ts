/**
 * The admin API over HTTP with the session's Cognito access token (refreshed and retried once
 * when the gateway says it expired). HTTP statuses become the CLI's exit codes.
 */
import type { Context } from './context.js'
import { CliError, EXIT, usageError, type ExitCode } from './errors.js'
import { str } from './flags.js'
import { accessToken, normalizeApiUrl, SessionStore } from './session.js'
import { withSpinner, type Io } from './ui.js'

const EXIT_BY_STATUS: Record<number, ExitCode> = {
  400: EXIT.usage,
  401: EXIT.auth,
  403: EXIT.forbidden,
  404: EXIT.notFound,
}

export class ApiClient {
  constructor(
    readonly apiUrl: string,
    private readonly store: SessionStore,
    private readonly io: Io,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, spinner = 'Working…'): Promise<T> {
    const send = async (force: boolean) => {
      const { token } = await accessToken(this.store, this.apiUrl, this.env, { force })
      try {
        return await fetch(`${this.apiUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: body !== undefined ? JSON.stringify(body) : undefined,
          signal: AbortSignal.timeout(60_000),
        })
      } catch (err) {
        throw new CliError(
          `cannot reach ${this.apiUrl}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`,
        )
      }
    }
    return withSpinner(this.io, spinner, async () => {
      let res = await send(false)
      let payload = (await res.json().catch(() => undefined)) as
        | { error?: { message?: string; code?: string } }
        | undefined
      if (res.status === 401 && payload?.error?.code === 'token_expired') {
        res = await send(true)
        payload = (await res.json().catch(() => undefined)) as typeof payload
      }
      if (!res.ok) {
        const message = payload?.error?.message ?? `HTTP ${res.status}`
        // A 400 from the server is the person's input, but not a command-line mistake: no --help pointer.
        throw new CliError(
          res.status === 401 ? `${message} (run: pennyworth login)` : message,
          EXIT_BY_STATUS[res.status] ?? EXIT.failure,
        )
      }
      return payload as T
    })
  }
}

/** The gateway: --api-url, PENNYWORTH_API_URL, or the one last signed in to. */
export function apiUrlOf(ctx: Context, store: SessionStore): string {
  const given = str(ctx.flags, 'api-url') ?? ctx.env.PENNYWORTH_API_URL
  if (given) return normalizeApiUrl(given)
  const current = store.current()
  if (current) return current
  throw usageError('which gateway? Pass --api-url https://api.example.com or set PENNYWORTH_API_URL')
}

/** The token cache, the gateway's URL and a client for it. */
export function connect(ctx: Context): { store: SessionStore; apiUrl: string; api: ApiClient } {
  const store = SessionStore.fromEnv(ctx.env)
  const apiUrl = apiUrlOf(ctx, store)
  return { store, apiUrl, api: new ApiClient(apiUrl, store, ctx.io, ctx.env) }
}
