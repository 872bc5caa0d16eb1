/**
 * The only place that writes Server-Sent Events (`data: …\n\n`, `data: [DONE]`).
 * Format: https://html.spec.whatwg.org/multipage/server-sent-events.html and OpenAI's stream
 * contract (https://platform.openai.com/docs/api-reference/chat-streaming): JSON payloads,
 * `data: [DONE]` last; an error after the headers are out is one `data: {"error":{…}}` event,
 * then the stream ends (the official clients raise it as an APIError).
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

export interface SseOptions {
  /** Turns an error thrown by the source into the payload of the final error event. */
  errorPayload(err: unknown): object
  /** Called once the stream has ended for any reason (done, error, or client gone). */
  onClose?(outcome: 'done' | 'error' | 'aborted'): void
}

/**
 * Streams `first` and then the rest of `source` as SSE. The first payload is written before
 * this returns, so the body is non-empty the moment headers leave (@fastify/aws-lambda
 * substitutes an empty body when nothing is buffered yet). Destroying the returned stream
 * (client hang-up) stops pulling from the source and closes its iterator.
 */
export function sseStream(first: unknown[], source: AsyncIterator<unknown>, options: SseOptions): Readable {
  const out = new PassThrough()
  for (const payload of first) out.write(sseData(payload))
  let closed = false
  const finish = (outcome: 'done' | 'error' | 'aborted') => {
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
      while (!out.destroyed) {
        const next = await source.next()
        if (next.done) break
        if (!out.write(sseData(next.value))) await waitForDrain(out)
      }
      if (out.destroyed) return
      out.end(SSE_DONE)
      finish('done')
    } catch (err) {
      if (out.destroyed) return
      out.end(sseData(options.errorPayload(err)))
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
