/** `login`, `logout`, `whoami`: Cognito sign-in and the cached session (session.ts). */
import { decodeJwt } from 'jose'
import { connect } from '../api.js'
import { answer, type Context } from '../context.js'
import { EXIT } from '../errors.js'
import { str } from '../flags.js'
import { login as signIn, logout as signOut } from '../session.js'
import { table, when } from '../table.js'
import { Prompter } from '../ui.js'

export async function login(ctx: Context): Promise<number> {
  const { io, flags, env } = ctx
  const { store, apiUrl } = connect(ctx)
  const prompter = new Prompter(io)
  try {
    const session = await signIn(apiUrl, io, prompter, store, {
      username: str(flags, 'username'),
      flow: str(flags, 'flow'),
      env,
    })
    const groups = (decodeJwt(session.accessToken)['cognito:groups'] as string[] | undefined) ?? []
    answer(
      ctx,
      { apiUrl, username: session.username, groups, expiresAt: new Date(session.expiresAt).toISOString() },
      () =>
        io.out(
          `Signed in to ${apiUrl} as ${session.username} (${groups.join(', ') || 'no group'}). ` +
            `Tokens cached in ${store.file}.`,
        ),
    )
    return EXIT.ok
  } finally {
    prompter.close()
  }
}

export async function logout(ctx: Context): Promise<number> {
  const { store, apiUrl } = connect(ctx)
  const had = await signOut(store, apiUrl, ctx.io, ctx.env)
  answer(ctx, { apiUrl, signedOut: had }, () =>
    ctx.io.out(had ? `Signed out of ${apiUrl}.` : `Not signed in to ${apiUrl}.`),
  )
  return EXIT.ok
}

export async function whoami(ctx: Context): Promise<number> {
  const { store, apiUrl, api } = connect(ctx)
  const me = await api.request<{ sub: string; username: string; groups: string[]; admin: boolean }>(
    'GET',
    '/v1/admin/me',
  )
  const session = store.get(apiUrl)!
  answer(
    ctx,
    { apiUrl, signedInAs: session.username, ...me, tokenExpiresAt: new Date(session.expiresAt).toISOString() },
    () => {
      ctx.io.out(`${session.username} on ${apiUrl}`)
      ctx.io.out(
        table([
          ['sub', me.sub],
          ['groups', me.groups.join(', ') || '(none)'],
          ['role', me.admin ? 'admin' : 'user'],
          ['token valid until', when(session.expiresAt)],
        ]),
      )
    },
  )
  return EXIT.ok
}
