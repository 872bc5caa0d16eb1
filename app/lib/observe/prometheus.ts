/**
 * The local view of the metrics: the same names as the EMF output (contracts/metrics.ts) kept
 * in memory and rendered as Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format) for
 * `GET /metrics` on the local server. Counters sum; latencies are histograms with fixed buckets.
 */
import { METRICS, type MetricName, prometheusName } from '../../../contracts/metrics.js'

/** Bucket upper bounds in ms: first token and short calls up to 15-minute streams. */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000]

interface Histogram {
  buckets: number[]
  sum: number
  count: number
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')

export class PrometheusRegistry {
  private readonly counters = new Map<MetricName, Map<string, number>>()
  private readonly histograms = new Map<MetricName, Map<string, Histogram>>()

  /** `labels`: `door="chat",model="x"` (already rendered), or '' for runtime metrics. */
  add(name: MetricName, labels: string, value: number): void {
    if (METRICS[name].kind === 'histogram') {
      let series = this.histograms.get(name)
      if (!series) this.histograms.set(name, (series = new Map()))
      let h = series.get(labels)
      if (!h) series.set(labels, (h = { buckets: LATENCY_BUCKETS_MS.map(() => 0), sum: 0, count: 0 }))
      h.sum += value
      h.count++
      for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) if (value <= LATENCY_BUCKETS_MS[i]!) h.buckets[i]!++
      return
    }
    let series = this.counters.get(name)
    if (!series) this.counters.set(name, (series = new Map()))
    series.set(labels, (series.get(labels) ?? 0) + value)
  }

  /** Labels of a request metric. */
  static labels(door: string, model: string): string {
    return `door="${escape(door)}",model="${escape(model)}"`
  }

  /** The value of a counter series (tests, /metrics consumers). */
  counter(name: MetricName, labels = ''): number {
    return this.counters.get(name)?.get(labels) ?? 0
  }

  /** Text exposition of every series, in the order of contracts/metrics.ts. */
  render(): string {
    const out: string[] = []
    for (const name of Object.keys(METRICS) as MetricName[]) {
      const spec = METRICS[name]
      const prom = prometheusName(name)
      out.push(`# HELP ${prom} ${spec.help}`, `# TYPE ${prom} ${spec.kind}`)
      if (spec.kind === 'counter') {
        for (const [labels, v] of this.counters.get(name) ?? []) out.push(`${prom}${labels ? `{${labels}}` : ''} ${v}`)
        continue
      }
      for (const [labels, h] of this.histograms.get(name) ?? []) {
        const sep = labels ? `${labels},` : ''
        for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++)
          out.push(`${prom}_bucket{${sep}le="${LATENCY_BUCKETS_MS[i]}"} ${h.buckets[i]}`)
        out.push(`${prom}_bucket{${sep}le="+Inf"} ${h.count}`)
        out.push(`${prom}_sum${labels ? `{${labels}}` : ''} ${Math.round(h.sum * 1000) / 1000}`)
        out.push(`${prom}_count${labels ? `{${labels}}` : ''} ${h.count}`)
      }
    }
    return `${out.join('\n')}\n`
  }
}
