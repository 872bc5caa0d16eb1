/** `users add|list|disable` (admins): people in the Cognito user pool, through the admin API. */
import { connect } from '../api.js'
import { answer, type Context } from '../context.js'
import { EXIT, usageError } from '../errors.js'
import { str } from '../flags.js'
import { table, when } from '../table.js'
import { Prompter } from '../ui.js'

interface UserView {
  username: string
  sub: string
  email: string | null
  enabled: boolean
  status: string
  groups: string[]
  createdAt: string | null
}

export async function users(ctx: Context): Promise<number> {
  const { io, flags, args } = ctx
  switch (ctx.command) {
    case 'add': {
      const email = args[0]
      if (!email) throw usageError('users add needs an e-mail address')
      const group = str(flags, 'group') ?? 'user'
      if (!['admin', 'user'].includes(group)) throw usageError('--group must be admin or user')
      const { api } = connect(ctx)
      let temporaryPassword: string | undefined
      if (flags['set-password'] === true) {
        const prompter = new Prompter(io)
        try {
          temporaryPassword = await prompter.ask('Temporary password: ', { secret: true })
        } finally {
          prompter.close()
        }
      }
      const invite = flags['no-invite'] !== true
      const u = await api.request<UserView>(
        'POST',
        '/v1/admin/users',
        { email, group, temporaryPassword, sendInvite: invite },
        'Creating the user…',
      )
      answer(ctx, u, () =>
        io.out(
          `Created ${u.email ?? email} in group ${u.groups.join(', ')} ` +
            `(${u.status}).${invite ? ' Cognito e-mails the invitation with a temporary password.' : ''}`,
        ),
      )
      return EXIT.ok
    }
    case 'list': {
      const { api } = connect(ctx)
      const res = await api.request<{ data: UserView[] }>('GET', '/v1/admin/users', undefined, 'Loading users…')
      answer(ctx, res.data, () =>
        io.out(
          res.data.length === 0
            ? 'No users.'
            : table([
                ['EMAIL', 'GROUPS', 'ENABLED', 'STATUS', 'SUB', 'CREATED'],
                ...res.data.map((u) => [
                  u.email ?? u.username,
                  u.groups.join(',') || '-',
                  u.enabled ? 'yes' : 'no',
                  u.status,
                  u.sub,
                  when(u.createdAt),
                ]),
              ]),
        ),
      )
      return EXIT.ok
    }
    case 'disable': {
      const who = args[0]
      if (!who) throw usageError('users disable needs an e-mail address, user name or sub')
      const { api } = connect(ctx)
      const u = await api.request<{ email: string | null; username: string }>(
        'POST',
        `/v1/admin/users/${encodeURIComponent(who)}/disable`,
        {},
        'Disabling…',
      )
      answer(ctx, u, () =>
        io.out(
          `Disabled ${u.email ?? u.username}: no new sign-ins; tokens already issued stay ` +
            `valid until they expire (≤ 60 min).`,
        ),
      )
      return EXIT.ok
    }
    default:
      throw usageError(`unknown command: users ${ctx.command ?? ''}`.trim())
  }
}
