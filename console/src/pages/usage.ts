/** Usage: cost and tokens per day (per model, or for one key), month-to-date vs budget, CSV download. */
import { useEffect, useMemo, useState } from 'preact/hooks'
import { Chart, type Series } from '../chart.js'
import { api, type Me } from '../session.js'
import { BudgetBar, ErrorLine, daysAgo, html, monthStart, num, today, usd } from '../ui.js'
import type { Key } from './keys.js'

interface Counters {
  requests: number
  input_tokens: number
  output_tokens: number
  cache_read_tokens: number
  cache_write_tokens: number
  cost_micro_usd: number
}
interface ModelRow extends Counters {
  model: string
}
/** GET /v1/admin/usage (app/schemas/usage.ts UsageResponse). */
interface Report {
  from: string
  to: string
  totals: Counters
  models: ModelRow[]
  periods: Array<{ period: string; totals: Counters; models: ModelRow[] }>
  keys?: Array<{ key_id: string; owner: string; name?: string; totals: Counters }>
}

const DAY = 86_400_000

/** Every day from..to (UTC), so days without calls are zeros, not gaps. */
function days(from: string, to: string): string[] {
  const out: string[] = []
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY)
    out.push(new Date(t).toISOString().slice(0, 10))
  return out
}

/** The report as CSV: one row per day and model. */
export function toCsv(r: Report): string {
  const head = 'day,model,requests,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_usd'
  const rows = r.periods.flatMap((p) =>
    p.models.map((m) =>
      [
        p.period,
        JSON.stringify(m.model),
        m.requests,
        m.input_tokens,
        m.output_tokens,
        m.cache_read_tokens,
        m.cache_write_tokens,
        (m.cost_micro_usd / 1e6).toFixed(6),
      ].join(','),
    ),
  )
  return `${[head, ...rows].join('\n')}\n`
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1_000)
}

export function UsagePage(_props: { me: Me }) {
  const [range, setRange] = useState({ from: daysAgo(29), to: today(), key: '' })
  const [report, setReport] = useState<Report | null>(null)
  const [month, setMonth] = useState<Report | null>(null)
  const [keys, setKeys] = useState<Key[]>([])
  const [error, setError] = useState<unknown>(null)

  const load = async (r = range) => {
    try {
      const q = new URLSearchParams({ granularity: 'day', from: r.from, to: r.to })
      if (r.key) q.set('key_id', r.key)
      const [rep, mtd, list] = await Promise.all([
        api<Report>('GET', `/v1/admin/usage?${q}`),
        api<Report>('GET', `/v1/admin/usage?granularity=month&from=${monthStart().slice(0, 7)}`),
        api<{ data: Key[] }>('GET', '/v1/admin/keys'),
      ])
      setReport(rep)
      setMonth(mtd)
      setKeys(list.data)
      setError(null)
    } catch (err) {
      setError(err)
    }
  }
  useEffect(() => {
    void load()
  }, [])

  const charts = useMemo(() => {
    if (!report) return null
    const all = days(report.from.slice(0, 10), report.to.slice(0, 10))
    const byDay = new Map(report.periods.map((p) => [p.period.slice(0, 10), p]))
    const x = all.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000)
    const models = report.models.map((m) => m.model)
    const cost: Series[] = models.map((model) => ({
      label: model,
      values: all.map((d) => (byDay.get(d)?.models.find((m) => m.model === model)?.cost_micro_usd ?? 0) / 1e6),
    }))
    const tokens: Series[] = [
      { label: 'input', values: all.map((d) => byDay.get(d)?.totals.input_tokens ?? 0) },
      { label: 'output', values: all.map((d) => byDay.get(d)?.totals.output_tokens ?? 0) },
    ]
    return { x, cost, tokens }
  }, [report])

  const submit = (e: Event) => {
    e.preventDefault()
    const f = new FormData(e.target as HTMLFormElement)
    const next = { from: String(f.get('from')), to: String(f.get('to')), key: String(f.get('key') ?? '') }
    setRange(next)
    void load(next)
  }

  const names = new Map(keys.map((k) => [k.id, k.name]))
  const mtdByKey = new Map((month?.keys ?? []).map((k) => [k.key_id, k.totals.cost_micro_usd]))
  const budgeted = keys.filter((k) => k.status === 'active' && k.monthlyBudgetMicroUsd)
  const budgetTotal = budgeted.reduce((s, k) => s + (k.monthlyBudgetMicroUsd ?? 0), 0)
  const spentBudgeted = budgeted.reduce((s, k) => s + (mtdByKey.get(k.id) ?? 0), 0)

  return html`<section aria-labelledby="page-title">
    <div class="page-head">
      <h1 id="page-title" tabindex="-1">Usage</h1>
      <button
        type="button"
        id="csv"
        disabled=${!report}
        onClick=${() => report && download(`pennyworth-usage-${range.from}-${range.to}.csv`, toCsv(report))}
      >
        Download CSV
      </button>
    </div>
    <form class="filters" onSubmit=${submit}>
      <label>From <input type="date" name="from" value=${range.from} max=${today()} required /></label>
      <label>To <input type="date" name="to" value=${range.to} max=${today()} required /></label>
      <label
        >Key
        <select name="key">
          <option value="">all keys</option>
          ${keys.map((k) => html`<option value=${k.id} selected=${k.id === range.key}>${k.name} (${k.id})</option>`)}
        </select>
      </label>
      <button type="submit">Show</button>
    </form>
    <${ErrorLine} error=${error} />
    ${
      month
        ? html`<div class="cards">
          <div class="card" id="mtd">
            <h2>This month</h2>
            <p class="big">${usd(month.totals.cost_micro_usd)}</p>
            <p>${num(month.totals.requests)} requests</p>
          </div>
          <div class="card">
            <h2>Against budgets</h2>
            ${
              budgeted.length
                ? html`<${BudgetBar} spent=${spentBudgeted} budget=${budgetTotal} />
                  <p class="muted">${budgeted.length} key(s) with a monthly budget</p>`
                : html`<p class="muted">No key has a monthly budget.</p>`
            }
          </div>
        </div>`
        : null
    }
    ${
      report && charts
        ? html`<p id="usage-summary">
            ${`${range.from} to ${range.to}${range.key ? ` · key ${names.get(range.key) ?? range.key}` : ''}: `}
            <strong>${num(report.totals.requests)}</strong>${' requests, '}
            <strong>${num(report.totals.input_tokens + report.totals.output_tokens)}</strong>${' tokens, '}
            <strong>${usd(report.totals.cost_micro_usd)}</strong>
          </p>
          <${Chart}
            id="cost-chart"
            title="Cost per day, USD, per model"
            x=${charts.x}
            series=${charts.cost}
            format=${(v: number) => `$${v.toFixed(v && v < 0.01 ? 4 : 2)}`}
          />
          <${Chart}
            id="tokens-chart"
            title="Tokens per day"
            x=${charts.x}
            series=${charts.tokens}
            format=${(v: number) => num(Math.round(v))}
          />
          <h2>Per model</h2>
          <div class="table-wrap">
            <table id="models-table">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Requests</th>
                  <th scope="col">Input tokens</th>
                  <th scope="col">Output tokens</th>
                  <th scope="col">Cost</th>
                </tr>
              </thead>
              <tbody>
                ${report.models.map(
                  (m) => html`<tr>
                    <th scope="row">${m.model}</th>
                    <td>${num(m.requests)}</td>
                    <td>${num(m.input_tokens)}</td>
                    <td>${num(m.output_tokens)}</td>
                    <td>${usd(m.cost_micro_usd)}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>
          ${
            report.keys
              ? html`<h2>Per key</h2>
                <div class="table-wrap">
                  <table id="keys-usage-table">
                    <thead>
                      <tr>
                        <th scope="col">Key</th>
                        <th scope="col">Requests</th>
                        <th scope="col">Tokens</th>
                        <th scope="col">Cost</th>
                        <th scope="col">This month vs budget</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${report.keys.map((k) => {
                        const key = keys.find((x) => x.id === k.key_id)
                        return html`<tr>
                          <th scope="row">${k.name ?? names.get(k.key_id) ?? k.key_id} <code>${k.key_id}</code></th>
                          <td>${num(k.totals.requests)}</td>
                          <td>${num(k.totals.input_tokens + k.totals.output_tokens)}</td>
                          <td>${usd(k.totals.cost_micro_usd)}</td>
                          <td>
                            <${BudgetBar}
                              spent=${mtdByKey.get(k.key_id) ?? 0}
                              budget=${key?.monthlyBudgetMicroUsd}
                              soft=${key?.softBudgetMicroUsd}
                            />
                          </td>
                        </tr>`
                      })}
                    </tbody>
                  </table>
                </div>`
              : null
          }`
        : html`<p aria-busy="true">Loading…</p>`
    }
  </section>`
}
