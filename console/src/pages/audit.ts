/** Audit (admins): who did what, between two days, filtered by action and by text. */
import { useEffect, useState } from 'preact/hooks'
import { api, type Me } from '../session.js'
import { ErrorLine, daysAgo, html, time, today } from '../ui.js'

interface Record_ {
  id: string
  at: string
  who: { kind: string; id: string; name?: string }
  action: string
  target: string
  details: Record<string, unknown>
  requestId?: string
}

export function AuditPage(_props: { me: Me }) {
  const [range, setRange] = useState({ from: daysAgo(6), to: today() })
  const [action, setAction] = useState('')
  const [text, setText] = useState('')
  const [records, setRecords] = useState<Record_[] | null>(null)
  const [error, setError] = useState<unknown>(null)

  const load = async (r = range) => {
    try {
      const q = new URLSearchParams({
        from: `${r.from}T00:00:00.000Z`,
        to: `${r.to}T23:59:59.999Z`,
        limit: '1000',
      })
      setRecords((await api<{ data: Record_[] }>('GET', `/v1/admin/audit?${q}`)).data)
      setError(null)
    } catch (err) {
      setError(err)
    }
  }
  useEffect(() => {
    void load()
  }, [])

  const actions = [...new Set((records ?? []).map((r) => r.action))].sort()
  const needle = text.trim().toLowerCase()
  const shown = (records ?? []).filter(
    (r) =>
      (!action || r.action === action) &&
      (!needle || JSON.stringify([r.who, r.target, r.details]).toLowerCase().includes(needle)),
  )

  return html`<section aria-labelledby="page-title">
    <h1 id="page-title" tabindex="-1">Audit trail</h1>
    <form
      class="filters"
      onSubmit=${(e: Event) => {
        e.preventDefault()
        const f = new FormData(e.target as HTMLFormElement)
        const next = { from: String(f.get('from')), to: String(f.get('to')) }
        setRange(next)
        void load(next)
      }}
    >
      <label>From <input type="date" name="from" value=${range.from} max=${today()} required /></label>
      <label>To <input type="date" name="to" value=${range.to} max=${today()} required /></label>
      <button type="submit">Show</button>
      <label
        >Action
        <select
          id="audit-action"
          value=${action}
          onChange=${(e: Event) => setAction((e.target as HTMLSelectElement).value)}
        >
          <option value="">all</option>
          ${actions.map((a) => html`<option value=${a}>${a}</option>`)}
        </select>
      </label>
      <label
        >Contains
        <input
          id="audit-text"
          type="search"
          value=${text}
          placeholder="person, key, e-mail…"
          onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)}
        />
      </label>
    </form>
    <${ErrorLine} error=${error} />
    ${
      records === null
        ? html`<p aria-busy="true">Loading…</p>`
        : html`<p class="muted" role="status">${shown.length} of ${records.length} records</p>
          <div class="table-wrap">
            <table id="audit-table" class="stacked">
              <thead>
                <tr>
                  <th scope="col">When (UTC)</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                ${shown.map(
                  (r) => html`<tr key=${r.id} data-action=${r.action}>
                    <td data-label="When">${time(r.at)}</td>
                    <td data-label="Who">${r.who.name ?? r.who.id}</td>
                    <td data-label="Action"><code>${r.action}</code></td>
                    <td data-label="Target"><code>${r.target}</code></td>
                    <td>
                      <details>
                        <summary>show</summary>
                        <pre>${JSON.stringify(r.details, null, 2)}</pre>
                      </details>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
  </section>`
}
