/** Small shared pieces: dialogs (native <dialog>, so focus and Escape work by themselves), copy, formats. */
import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import type { ComponentChildren } from 'preact'

export { html }

/** A modal dialog; focus goes to the first field (or `[autofocus]`) and returns to the opener on close. */
export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; id?: string }) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null
    const d = ref.current!
    d.showModal()
    const first = d.querySelector<HTMLElement>('[autofocus], input, select, textarea, button:not(.close)')
    first?.focus()
    return () => opener?.focus()
  }, [])
  return html`<dialog
    ref=${ref}
    id=${props.id}
    aria-labelledby="dialog-title"
    onCancel=${(e: Event) => {
      e.preventDefault()
      props.onClose()
    }}
  >
    <header class="dialog-head">
      <h2 id="dialog-title">${props.title}</h2>
      <button type="button" class="close" aria-label="Close" onClick=${props.onClose}>×</button>
    </header>
    ${props.children}
  </dialog>`
}

/** A button that copies `text`; says whether it worked. */
export function CopyButton(props: { text: string; label?: string }) {
  const [state, setState] = useState('')
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text)
      setState('Copied')
    } catch {
      setState('Copy failed: select the text and copy it')
    }
  }
  return html`<button type="button" class="copy" onClick=${copy}>${props.label ?? 'Copy'}</button>
    <span class="copy-state" role="status">${state}</span>`
}

export function ErrorLine(props: { error: unknown }) {
  if (!props.error) return null
  const message = props.error instanceof Error ? props.error.message : String(props.error)
  return html`<p class="error" role="alert">${message}</p>`
}

export const usd = (micro: number | null | undefined) =>
  micro === null || micro === undefined ? '—' : `$${(micro / 1e6).toFixed(micro < 10_000 && micro > 0 ? 4 : 2)}`
export const num = (n: number) => n.toLocaleString('en-US')
export const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : 'never')
export const time = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')}Z`
export const today = () => new Date().toISOString().slice(0, 10)
export const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10)
export const monthStart = () => `${new Date().toISOString().slice(0, 7)}-01`

/** A budget-use bar (a <meter>: announced by screen readers, no inline style needed). */
export function BudgetBar(props: { spent: number; budget: number | null | undefined; soft?: number | null }) {
  if (!props.budget) return html`<span class="muted">no budget</span>`
  const ratio = Math.min(1, props.spent / props.budget)
  return html`<span class="budget">
    <meter
      min="0"
      max="1"
      low=${props.soft ? props.soft / props.budget : 0.8}
      high="0.95"
      optimum="0"
      value=${ratio}
      aria-label="budget used"
    ></meter>
    <span>${usd(props.spent)} / ${usd(props.budget)}</span>
  </span>`
}
