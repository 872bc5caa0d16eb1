/** A uPlot line chart that follows its container's width (canvas drawing: no inline styles or scripts). */
import uPlot from 'uplot'
import { useEffect, useRef } from 'preact/hooks'
import { html } from './ui.js'

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563']

export interface Series {
  label: string
  values: number[]
}

/** `x`: day starts (seconds since epoch); one line per series. */
export function Chart(props: {
  id: string
  title: string
  x: number[]
  series: Series[]
  format: (v: number) => string
}) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current!
    const width = () => Math.max(280, el.clientWidth)
    const plot = new uPlot(
      {
        width: width(),
        height: 240,
        series: [
          {},
          ...props.series.map((s, i) => ({
            label: s.label,
            stroke: COLORS[i % COLORS.length],
            width: 2,
            points: { show: true, size: 6 },
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : props.format(v)),
          })),
        ],
        axes: [{}, { values: (_u: uPlot, vals: number[]) => vals.map(props.format), size: 70 }],
        scales: { x: { time: true } },
      },
      [props.x, ...props.series.map((s) => s.values)],
      el,
    )
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 240 }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.destroy()
    }
  }, [props.x, props.series])
  const total = props.series.reduce((sum, s) => sum + s.values.reduce((a, b) => a + b, 0), 0)
  return html`<figure class="chart" id=${props.id} data-total=${total} aria-label=${props.title}>
    <figcaption>${props.title}</figcaption>
    <div ref=${box}></div>
  </figure>`
}
