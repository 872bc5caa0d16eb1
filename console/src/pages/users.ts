/** Users (admins): list, add in a group (Cognito invites them), disable with confirmation. */
import { useEffect, useState } from 'preact/hooks'
import { api, ApiError, type Me } from '../session.js'
import { Dialog, ErrorLine, day, html } from '../ui.js'

interface User {
  username: string
  sub: string
  email: string | null
  enabled: boolean
  status: string
  groups: string[]
  createdAt: string | null
}

export function UsersPage(props: { me: Me }) {
  const [users, setUsers] = useState<User[] | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [adding, setAdding] = useState(false)
  const [disabling, setDisabling] = useState<User | null>(null)

  const load = async () => {
    try {
      setUsers((await api<{ data: User[] }>('GET', '/v1/admin/users')).data)
      setError(null)
    } catch (err) {
      setError(err)
    }
  }
  useEffect(() => {
    void load()
  }, [])

  const notConfigured = error instanceof ApiError && error.code === 'users_not_configured'
  return html`<section aria-labelledby="page-title">
    <div class="page-head">
      <h1 id="page-title" tabindex="-1">Users</h1>
      <button type="button" class="primary" id="add-user" disabled=${notConfigured} onClick=${() => setAdding(true)}>
        Add user
      </button>
    </div>
    ${
      notConfigured
        ? html`<p class="notice">
          People are managed in a Cognito user pool; this gateway has none configured
          (PENNYWORTH_COGNITO_USER_POOL_ID). Local mode signs in the local admin only.
        </p>`
        : html`<${ErrorLine} error=${error} />`
    }
    ${
      users
        ? html`<div class="table-wrap">
          <table id="users-table" class="stacked">
            <thead>
              <tr>
                <th scope="col">E-mail</th>
                <th scope="col">Groups</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col"><span class="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              ${users.map(
                (u) => html`<tr key=${u.sub} data-user=${u.email ?? u.username}>
                  <th scope="row">${u.email ?? u.username}</th>
                  <td data-label="Groups">${u.groups.join(', ') || html`<span class="muted">none</span>`}</td>
                  <td data-label="Status">
                    <span class=${`badge ${u.enabled ? 'active' : 'revoked'}`}
                      >${u.enabled ? 'enabled' : 'disabled'}</span
                    >
                    <span class="muted"> ${u.status}</span>
                  </td>
                  <td data-label="Created">${day(u.createdAt)}</td>
                  <td class="row-actions">
                    ${
                      u.enabled && u.sub !== props.me.sub
                        ? html`<button type="button" class="danger" onClick=${() => setDisabling(u)}>Disable</button>`
                        : null
                    }
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>`
        : null
    }
    ${
      adding
        ? html`<${Dialog} title="Add a user" onClose=${() => setAdding(false)} id="user-dialog">
          <${AddUser}
            onCancel=${() => setAdding(false)}
            onDone=${() => {
              setAdding(false)
              void load()
            }}
          />
        <//>`
        : null
    }
    ${
      disabling
        ? html`<${Dialog}
          title=${`Disable ${disabling.email ?? disabling.username}?`}
          onClose=${() => setDisabling(null)}
        >
          <${ConfirmDisable}
            user=${disabling}
            onCancel=${() => setDisabling(null)}
            onDone=${() => {
              setDisabling(null)
              void load()
            }}
          />
        <//>`
        : null
    }
  </section>`
}

function AddUser(props: { onCancel: () => void; onDone: () => void }) {
  const [error, setError] = useState<unknown>(null)
  const submit = async (e: Event) => {
    e.preventDefault()
    const f = new FormData(e.target as HTMLFormElement)
    const password = String(f.get('password') ?? '')
    try {
      await api('POST', '/v1/admin/users', {
        email: String(f.get('email')),
        group: String(f.get('group')),
        sendInvite: f.get('invite') === 'on',
        ...(password ? { temporaryPassword: password } : {}),
      })
      props.onDone()
    } catch (err) {
      setError(err)
    }
  }
  return html`<form class="stack" onSubmit=${submit}>
    <label>E-mail <input name="email" type="email" required autocomplete="off" /></label>
    <label
      >Group
      <select name="group">
        <option value="user">user: manages their own keys</option>
        <option value="admin">admin: manages everything</option>
      </select>
    </label>
    <label
      >Temporary password <small>(empty: Cognito makes one)</small>
      <input name="password" type="password" minlength="8" autocomplete="new-password" />
    </label>
    <label class="inline"><input type="checkbox" name="invite" checked /> E-mail the invitation</label>
    <${ErrorLine} error=${error} />
    <div class="actions">
      <button type="button" onClick=${props.onCancel}>Cancel</button>
      <button type="submit" class="primary">Add user</button>
    </div>
  </form>`
}

function ConfirmDisable(props: { user: User; onCancel: () => void; onDone: () => void }) {
  const [error, setError] = useState<unknown>(null)
  const submit = async (e: Event) => {
    e.preventDefault()
    try {
      await api('POST', `/v1/admin/users/${encodeURIComponent(props.user.sub)}/disable`)
      props.onDone()
    } catch (err) {
      setError(err)
    }
  }
  return html`<form class="stack" onSubmit=${submit}>
    <p>They can no longer sign in or refresh a session; tokens already issued last until they expire (≤ 60 min).
      Their API keys keep working until you revoke them.</p>
    <${ErrorLine} error=${error} />
    <div class="actions">
      <button type="button" autofocus onClick=${props.onCancel}>Cancel</button>
      <button type="submit" class="danger">Disable user</button>
    </div>
  </form>`
}
