/**
 * The only place that writes Server-Sent Events.
 * Format: https://html.spec.whatwg.org/multipage/server-sent-events.html. Each front door has
 * its own framing ({@link SseFraming}):
 * - OpenAI (https://platform.openai.com/docs/api-reference/chat-streaming): `data: <json>` only,
 *   `data: [DONE]` last; an error after the headers are out is one `data: {"error":{…}}` event,
 *   then the stream ends (the official clients raise it as an APIError);
 * - Anthropic (https://docs.anthropic.com/en/api/messages-streaming): `event: <type>` +
 *   `data: <json>`, no terminator (message_stop is the last event), `ping` keep-alives, and an
 *   `event: error` with an Anthropic error body;
 * - OpenAI Responses (https://platform.openai.com/docs/api-reference/responses-streaming):
 *   `event: <type>` + `data: <json>`, no terminator (response.completed / .incomplete /
 *   .failed is the last event); its door turns mid-stream errors into events itself.
 */
import { PassThrough, type Readable } from 'node:stream'

/** Response headers for an SSE stream. `x-accel-buffering` stops proxies from buffering it. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
} as const

export const sseData = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`
export const SSE_DONE = 'data: [DONE]\n\n'
/** An SSE event with a name: `event: <name>` + `data: <json>`. */
export const sseEvent = (name: string, payload: unknown): string =>
  `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`

/**
 * An SSE comment line (`: text`), which every SSE client ignores but a person reading the stream
 * (curl, logs) sees. Door encoders yield it among their payloads; only {@link sseStream} writes it.
 */
export class SseComment {
  constructor(readonly text: string) {}
}

/** `: text` with line breaks flattened (a newline would end the comment). */
export const sseCommentText = (c: SseComment): string => `: ${c.text.replace(/[\r\n]+/g, ' ')}\n\n`

/** How a front door frames its events. */
export interface SseFraming {
  /** One payload → its wire text. */
  event(payload: unknown): string
  /** Written after the last payload of a complete stream ('' for none). */
  done: string
  /** The error payload → its wire text. */
  error(payload: unknown): string
  /** A keep-alive written while the source is silent for `keepAliveMs`. */
  keepAlive?: { ms: number; text: string }
}

/** OpenAI's framing: data lines, `[DONE]` last. */
export const OPENAI_FRAMING: SseFraming = { event: sseData, done: SSE_DONE, error: sseData }

/** Anthropic's framing: the event name is the payload's `type`; pings every 10 s of silence. */
export const ANTHROPIC_FRAMING: SseFraming = {
  event: (p) => sseEvent((p as { type: string }).type, p),
  done: '',
  error: (p) => sseEvent('error', p),
  keepAlive: { ms: 10_000, text: sseEvent('ping', { type: 'ping' }) },
}

/** OpenAI Responses framing: the event name is the payload's `type`, no `[DONE]`. */
export const RESPONSES_FRAMING: SseFraming = {
  event: (p) => sseEvent((p as { type: string }).type, p),
  done: '',
  error: (p) => sseEvent('error', p),
}

export interface SseOptions {
  /** Turns an error thrown by the source into the payload of the final error event. */
  errorPayload(err: unknown): object
  /** Called once the stream has ended for any reason (done, error, or client gone). */
  onClose?(outcome: 'done' | 'error' | 'aborted'): void
  /** Default {@link OPENAI_FRAMING}. */
  framing?: SseFraming
}

/**
 * Streams `first` and then the rest of `source` as SSE. The first payload is written before
 * this returns, so the body is non-empty the moment headers leave (@fastify/aws-lambda
 * substitutes an empty body when nothing is buffered yet). Destroying the returned stream
 * (client hang-up) stops pulling from the source and closes its iterator.
 *
 * The first event of a loop turn is written at once; events that follow it in the same turn (an
 * upstream burst: several events read in one go) are joined into one write when the turn's I/O
 * callbacks are done (setImmediate). No event waits for a later one; a burst costs two
 * chunked-encoding frames and socket writes instead of one per event.
 */
export function sseStream(first: unknown[], source: AsyncIterator<unknown>, options: SseOptions): Readable {
  const framing = options.framing ?? OPENAI_FRAMING
  const out = new PassThrough()
  const frame = (payload: unknown) => (payload instanceof SseComment ? sseCommentText(payload) : framing.event(payload))
  for (const payload of first) out.write(frame(payload))
  // Frames of one loop turn after its first: joined into one write when the turn's I/O is done.
  let pending = ''
  let wroteThisTurn = false
  const flush = () => {
    wroteThisTurn = false
    if (out.destroyed || !pending) return
    const text = pending
    pending = ''
    out.write(text)
  }
  const send = (text: string) => {
    if (!wroteThisTurn) {
      wroteThisTurn = true
      setImmediate(flush)
      out.write(text)
    } else pending += text
  }
  let closed = false
  let timer: NodeJS.Timeout | undefined
  const keepAlive = framing.keepAlive
  let lastWrite = Date.now()
  // One timer per stream (not one per event): it pings only after a full quiet period.
  const check = () => {
    if (out.destroyed || closed || !keepAlive) return
    const quiet = Date.now() - lastWrite
    if (quiet >= keepAlive.ms) {
      out.write(keepAlive.text)
      lastWrite = Date.now()
      timer = setTimeout(check, keepAlive.ms)
    } else timer = setTimeout(check, keepAlive.ms - quiet)
  }
  const arm = () => {
    if (keepAlive && !timer) timer = setTimeout(check, keepAlive.ms)
  }
  const finish = (outcome: 'done' | 'error' | 'aborted') => {
    clearTimeout(timer)
    if (closed) return
    closed = true
    options.onClose?.(outcome)
  }
  out.on('close', () => {
    if (!closed) {
      finish('aborted')
      void source.return?.()
    }
  })
  void (async () => {
    try {
      arm()
      while (!out.destroyed) {
        const next = await source.next()
        if (next.done) break
        lastWrite = Date.now()
        send(frame(next.value))
        if (out.writableNeedDrain) await waitForDrain(out)
      }
      if (out.destroyed) return
      clearTimeout(timer)
      const tail = pending + framing.done
      pending = ''
      out.end(tail || undefined)
      finish('done')
    } catch (err) {
      if (out.destroyed) return
      clearTimeout(timer)
      const tail = pending + framing.error(options.errorPayload(err))
      pending = ''
      out.end(tail)
      finish('error')
    }
  })()
  return out
}

function waitForDrain(stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done)
      stream.off('close', done)
      resolve()
    }
    stream.on('drain', done)
    stream.on('close', done)
  })
}
