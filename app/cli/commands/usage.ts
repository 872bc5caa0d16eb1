/** `usage`: a table per period, per model and (admins) per key, and a bar chart; --json for scripts. */
import { connect } from '../api.js'
import { answer, type Context } from '../context.js'
import { EXIT, usageError } from '../errors.js'
import { str } from '../flags.js'
import { int, table, usd } from '../table.js'
import { barChart, type Io } from '../ui.js'

interface UsageCountersWire {
  requests: number
  input_tokens: number
  output_tokens: number
  cost_micro_usd: number
  estimated_requests: number
}
interface UsageWire {
  granularity: string
  from: string
  to: string
  totals: UsageCountersWire
  periods: Array<{ period: string; totals: UsageCountersWire }>
  models: Array<{ model: string } & UsageCountersWire>
  keys?: Array<{ key_id: string; owner: string; name?: string; totals: UsageCountersWire }>
}

export async function usage(ctx: Context): Promise<number> {
  if (ctx.command !== undefined)
    throw usageError(`usage takes options only; got: usage ${[ctx.command, ...ctx.args].join(' ')}`)
  const q = new URLSearchParams()
  const granularity = str(ctx.flags, 'granularity') ?? 'day'
  if (!['day', 'month'].includes(granularity)) throw usageError('--granularity must be day or month')
  q.set('granularity', granularity)
  for (const [flag, param] of [
    ['from', 'from'],
    ['to', 'to'],
    ['key', 'key_id'],
    ['owner', 'owner'],
  ] as const) {
    const v = str(ctx.flags, flag)
    if (v !== undefined) q.set(param, v)
  }
  const { api } = connect(ctx)
  const u = await api.request<UsageWire>('GET', `/v1/admin/usage?${q}`, undefined, 'Loading usage…')
  answer(ctx, u, () => printUsage(ctx.io, u))
  return EXIT.ok
}

/** Every period of the range (days or months), so the chart shows the quiet ones too. */
function periodsOf(u: UsageWire): string[] {
  const out: string[] = []
  if (u.granularity === 'day') {
    for (
      let t = Date.parse(`${u.from}T00:00:00Z`);
      t <= Date.parse(`${u.to}T00:00:00Z`) && out.length < 400;
      t += 86_400_000
    ) {
      out.push(new Date(t).toISOString().slice(0, 10))
    }
  } else {
    let [y, m] = u.from.split('-').map(Number)
    while (`${y}-${String(m).padStart(2, '0')}` <= u.to && out.length < 400) {
      out.push(`${y}-${String(m).padStart(2, '0')}`)
      if (++m > 12) {
        m = 1
        y++
      }
    }
  }
  return out
}

function printUsage(io: Io, u: UsageWire): void {
  const byPeriod = new Map(u.periods.map((p) => [p.period, p.totals]))
  const rows = periodsOf(u).map((p) => ({ period: p, t: byPeriod.get(p) }))
  io.out(`Usage ${u.from} … ${u.to} (by ${u.granularity})`)
  io.out('')
  io.out(
    table(
      [
        [u.granularity.toUpperCase(), 'REQUESTS', 'INPUT TOKENS', 'OUTPUT TOKENS', 'COST'],
        ...rows
          .filter((r) => r.t)
          .map((r) => [
            r.period,
            int(r.t!.requests),
            int(r.t!.input_tokens),
            int(r.t!.output_tokens),
            usd(r.t!.cost_micro_usd),
          ]),
        [
          'total',
          int(u.totals.requests),
          int(u.totals.input_tokens),
          int(u.totals.output_tokens),
          usd(u.totals.cost_micro_usd),
        ],
      ],
      new Set([1, 2, 3, 4]),
    ),
  )
  if (u.models.length) {
    io.out('')
    io.out(
      table(
        [
          ['MODEL', 'REQUESTS', 'TOKENS', 'COST'],
          ...u.models.map((m) => [
            m.model,
            int(m.requests),
            int(m.input_tokens + m.output_tokens),
            usd(m.cost_micro_usd),
          ]),
        ],
        new Set([1, 2, 3]),
      ),
    )
  }
  if (u.keys?.length) {
    io.out('')
    io.out(
      table(
        [
          ['KEY', 'NAME', 'OWNER', 'REQUESTS', 'COST'],
          ...u.keys.map((k) => [k.key_id, k.name ?? '', k.owner, int(k.totals.requests), usd(k.totals.cost_micro_usd)]),
        ],
        new Set([3, 4]),
      ),
    )
  }
  // Cost per period; token counts when nothing cost anything (mock models).
  const byCost = u.totals.cost_micro_usd > 0
  io.out('')
  io.out(byCost ? `Cost per ${u.granularity}:` : `Tokens per ${u.granularity}:`)
  io.out(
    barChart(
      rows.map((r) => {
        const value = r.t ? (byCost ? r.t.cost_micro_usd : r.t.input_tokens + r.t.output_tokens) : 0
        return { label: r.period, value, text: byCost ? usd(value) : int(value) }
      }),
    ),
  )
}
