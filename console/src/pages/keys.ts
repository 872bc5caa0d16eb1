/** Keys: list (status, scopes, expiry, budget use), create (secret shown once), update, rotate, revoke. */
import { useEffect, useState } from 'preact/hooks'
import { api, type Me } from '../session.js'
import { BudgetBar, CopyButton, Dialog, ErrorLine, day, html, monthStart, today } from '../ui.js'

export interface Key {
  id: string
  name: string
  owner: string
  createdAt: string
  expires: string | null
  status: 'active' | 'revoked'
  models: string[]
  monthlyBudgetMicroUsd?: number | null
  softBudgetMicroUsd?: number | null
  rpm?: number | null
  tpm?: number | null
  graceUntil?: string
  rotatedAt?: string
}

interface KeyUsage {
  keys?: Array<{ key_id: string; totals: { cost_micro_usd: number } }>
}

type Open =
  | { kind: 'create' }
  | { kind: 'edit'; key: Key }
  | { kind: 'rotate'; key: Key }
  | { kind: 'revoke'; key: Key }
  | { kind: 'secret'; title: string; secret: string }
  | null

/** Form values → the admin API's key fields (empty = none). */
function limitsFrom(f: FormData, editing: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const models = String(f.get('models') ?? '').trim()
  out.models = models ? models.split(/[\s,]+/).filter(Boolean) : ['*']
  const expires = String(f.get('expires') ?? '')
  if (expires) out.expires = new Date(`${expires}T23:59:59Z`).toISOString()
  else if (editing) out.expires = null
  const budget = String(f.get('budget') ?? '').trim()
  if (budget) out.monthlyBudgetMicroUsd = Math.round(Number(budget) * 1e6)
  else if (editing) out.monthlyBudgetMicroUsd = null
  for (const k of ['rpm', 'tpm']) {
    const v = String(f.get(k) ?? '').trim()
    if (v) out[k] = Number(v)
    else if (editing) out[k] = null
  }
  return out
}

function KeyForm(props: {
  key_?: Key
  submit: string
  onSubmit: (f: FormData) => Promise<void>
  onCancel: () => void
}) {
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const k = props.key_
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await props.onSubmit(new FormData(e.target as HTMLFormElement))
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return html`<form onSubmit=${submit} class="stack">
    <label>Name <input name="name" required maxlength="100" value=${k?.name ?? ''} /></label>
    <label
      >Models <small>(catalog ids, comma-separated; * = all)</small>
      <input name="models" value=${k ? k.models.join(', ') : '*'} />
    </label>
    <label
      >Expires <small>(empty = never)</small>
      <input name="expires" type="date" min=${today()} value=${k?.expires ? day(k.expires) : ''} />
    </label>
    <div class="row">
      <label
        >Monthly budget, USD
        <input
          name="budget"
          type="number"
          min="0"
          step="0.01"
          value=${k?.monthlyBudgetMicroUsd ? k.monthlyBudgetMicroUsd / 1e6 : ''}
        />
      </label>
      <label>Requests / min <input name="rpm" type="number" min="1" value=${k?.rpm ?? ''} /></label>
      <label>Tokens / min <input name="tpm" type="number" min="1" value=${k?.tpm ?? ''} /></label>
    </div>
    <${ErrorLine} error=${error} />
    <div class="actions">
      <button type="button" onClick=${props.onCancel}>Cancel</button>
      <button type="submit" class="primary" disabled=${busy}>${props.submit}</button>
    </div>
  </form>`
}

function SecretView(props: { secret: string; onDone: () => void }) {
  return html`<div class="stack">
    <p>
      This is the only time the key is shown. Copy it now and keep it like a password; it cannot be shown
      again (rotate the key if it is lost).
    </p>
    <output class="secret" id="new-secret" tabindex="0">${props.secret}</output>
    <div class="actions">
      <${CopyButton} text=${props.secret} label="Copy key" />
      <button type="button" class="primary" onClick=${props.onDone}>Done</button>
    </div>
  </div>`
}

export function KeysPage(props: { me: Me }) {
  const [keys, setKeys] = useState<Key[] | null>(null)
  const [spent, setSpent] = useState<Record<string, number>>({})
  const [error, setError] = useState<unknown>(null)
  const [open, setOpen] = useState<Open>(null)
  const [showRevoked, setShowRevoked] = useState(false)

  const load = async () => {
    try {
      const [list, usage] = await Promise.all([
        api<{ data: Key[] }>('GET', '/v1/admin/keys'),
        api<KeyUsage>('GET', `/v1/admin/usage?granularity=month&from=${monthStart().slice(0, 7)}`),
      ])
      setKeys(list.data.sort((a, b) => b.createdAt.localeCompare(a.createdAt)))
      setSpent(Object.fromEntries((usage.keys ?? []).map((k) => [k.key_id, k.totals.cost_micro_usd])))
      setError(null)
    } catch (err) {
      setError(err)
    }
  }
  useEffect(() => {
    void load()
  }, [])

  const close = () => setOpen(null)
  const shown = (keys ?? []).filter((k) => showRevoked || k.status === 'active')

  let dialog = null
  if (open?.kind === 'create')
    dialog = html`<${Dialog} title="Create a key" onClose=${close} id="key-dialog" key=${open.kind}>
      <${KeyForm}
        submit="Create key"
        onCancel=${close}
        onSubmit=${async (f: FormData) => {
          const body = { name: String(f.get('name')), ...limitsFrom(f, false) }
          const created = await api<{ key: string }>('POST', '/v1/admin/keys', body)
          setOpen({ kind: 'secret', title: 'Your new key', secret: created.key })
          void load()
        }}
      />
    <//>`
  else if (open?.kind === 'edit')
    dialog = html`<${Dialog} title=${`Edit ${open.key.name}`} onClose=${close} id="key-dialog" key=${open.kind}>
      <${KeyForm}
        key_=${open.key}
        submit="Save"
        onCancel=${close}
        onSubmit=${async (f: FormData) => {
          await api('PATCH', `/v1/admin/keys/${open.key.id}`, { name: String(f.get('name')), ...limitsFrom(f, true) })
          close()
          void load()
        }}
      />
    <//>`
  else if (open?.kind === 'rotate')
    dialog = html`<${Dialog} title=${`Rotate ${open.key.name}`} onClose=${close} id="key-dialog" key=${open.kind}>
      <${RotateForm}
        key_=${open.key}
        onCancel=${close}
        onDone=${(secret: string) => {
          setOpen({ kind: 'secret', title: 'The rotated key', secret })
          void load()
        }}
      />
    <//>`
  else if (open?.kind === 'revoke')
    dialog = html`<${Dialog} title=${`Revoke ${open.key.name}?`} onClose=${close} id="key-dialog" key=${open.kind}>
      <${RevokeForm}
        key_=${open.key}
        onCancel=${close}
        onDone=${() => {
          close()
          void load()
        }}
      />
    <//>`
  else if (open?.kind === 'secret')
    dialog = html`<${Dialog} title=${open.title} onClose=${close} id="key-dialog" key=${open.kind}>
      <${SecretView} secret=${open.secret} onDone=${close} />
    <//>`

  return html`<section aria-labelledby="page-title">
    <div class="page-head">
      <h1 id="page-title" tabindex="-1">API keys</h1>
      <button type="button" class="primary" id="create-key" onClick=${() => setOpen({ kind: 'create' })}>
        Create key
      </button>
    </div>
    <label class="inline"
      ><input type="checkbox" checked=${showRevoked} onChange=${() => setShowRevoked(!showRevoked)} /> Show revoked
      keys</label
    >
    <${ErrorLine} error=${error} />
    ${
      keys === null
        ? html`<p aria-busy="true">Loading…</p>`
        : shown.length === 0
          ? html`<p>No keys yet.</p>`
          : html`<div class="table-wrap">
            <table id="keys-table" class="stacked">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Id</th>
                  ${props.me.admin ? html`<th scope="col">Owner</th>` : null}
                  <th scope="col">Status</th>
                  <th scope="col">Models</th>
                  <th scope="col">Expires</th>
                  <th scope="col">This month</th>
                  <th scope="col"><span class="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${shown.map(
                  (k) => html`<tr key=${k.id} data-key-id=${k.id}>
                    <th scope="row">${k.name}</th>
                    <td data-label="Id"><code>${k.id}</code></td>
                    ${props.me.admin ? html`<td class="owner" data-label="Owner">${k.owner}</td>` : null}
                    <td data-label="Status">
                      <span class=${`badge ${k.status}`}>${k.status}</span>
                      ${
                        k.graceUntil && Date.parse(k.graceUntil) > Date.now()
                          ? html` <span class="badge grace" title=${`old secret works until ${k.graceUntil}`}
                              >grace</span
                            >`
                          : null
                      }
                    </td>
                    <td data-label="Models">${k.models.join(', ')}</td>
                    <td data-label="Expires">${day(k.expires)}</td>
                    <td data-label="This month">
                      <${BudgetBar}
                        spent=${spent[k.id] ?? 0}
                        budget=${k.monthlyBudgetMicroUsd}
                        soft=${k.softBudgetMicroUsd}
                      />
                    </td>
                    <td class="row-actions">
                      ${
                        k.status === 'active'
                          ? html`<button type="button" onClick=${() => setOpen({ kind: 'edit', key: k })}>Edit</button>
                            <button type="button" onClick=${() => setOpen({ kind: 'rotate', key: k })}>Rotate</button>
                            <button type="button" class="danger" onClick=${() => setOpen({ kind: 'revoke', key: k })}>
                              Revoke
                            </button>`
                          : null
                      }
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
    ${dialog}
  </section>`
}

function RotateForm(props: { key_: Key; onCancel: () => void; onDone: (secret: string) => void }) {
  const [error, setError] = useState<unknown>(null)
  const submit = async (e: Event) => {
    e.preventDefault()
    const grace = Number(new FormData(e.target as HTMLFormElement).get('grace'))
    try {
      const r = await api<{ key: string }>('POST', `/v1/admin/keys/${props.key_.id}/rotate`, {
        gracePeriodSeconds: grace,
      })
      props.onDone(r.key)
    } catch (err) {
      setError(err)
    }
  }
  return html`<form onSubmit=${submit} class="stack">
    <p>A new secret replaces the current one; the key id, limits and usage stay.</p>
    <label
      >The old secret keeps working for
      <select name="grace">
        <option value="0">no time: it stops now</option>
        <option value="3600" selected>1 hour</option>
        <option value="86400">1 day</option>
        <option value="604800">7 days</option>
      </select>
    </label>
    <${ErrorLine} error=${error} />
    <div class="actions">
      <button type="button" onClick=${props.onCancel}>Cancel</button>
      <button type="submit" class="primary">Rotate</button>
    </div>
  </form>`
}

function RevokeForm(props: { key_: Key; onCancel: () => void; onDone: () => void }) {
  const [error, setError] = useState<unknown>(null)
  const submit = async (e: Event) => {
    e.preventDefault()
    try {
      await api('POST', `/v1/admin/keys/${props.key_.id}/revoke`)
      props.onDone()
    } catch (err) {
      setError(err)
    }
  }
  return html`<form onSubmit=${submit} class="stack">
    <p>
      Every client using <strong>${props.key_.name}</strong> (<code>${props.key_.id}</code>) stops working within
      30 seconds. This cannot be undone.
    </p>
    <${ErrorLine} error=${error} />
    <div class="actions">
      <button type="button" autofocus onClick=${props.onCancel}>Cancel</button>
      <button type="submit" class="danger">Revoke key</button>
    </div>
  </form>`
}
