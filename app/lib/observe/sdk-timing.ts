/**
 * Times every call of an AWS SDK v3 client (a middleware at the `initialize` step, so a call's
 * retries are inside it) and, when tracing is on, wraps it in an X-Ray subsegment. Typed
 * structurally: no SDK import (only app/store/ and the wiring import the DynamoDB SDK).
 */
import type { Tracing } from './tracing.js'

/** The part of an SDK v3 client this needs. */
export interface ObservableClient {
  middlewareStack: {
    add(middleware: unknown, options: { step: 'initialize'; name: string; override?: boolean }): void
  }
}

type Next = (args: unknown) => Promise<unknown>

const NAME = 'pennyworthObserve'

/**
 * Adds (or replaces: a client shared by two apps in tests keeps one) the timing middleware.
 * `service` names the subsegments (`DynamoDB.GetItem`, `Bedrock.ConverseStream`).
 */
export function observeClient(
  client: ObservableClient,
  service: string,
  hooks: { onCall?(ms: number, ok: boolean): void; tracing?: () => Tracing | undefined },
): void {
  client.middlewareStack.add(
    (next: Next, context: { commandName?: string }) => async (args: unknown) => {
      const started = performance.now()
      const span = hooks.tracing?.()?.start(`${service}.${(context.commandName ?? 'Call').replace(/Command$/, '')}`)
      try {
        const out = await next(args)
        span?.end()
        hooks.onCall?.(performance.now() - started, true)
        return out
      } catch (err) {
        span?.end(err)
        hooks.onCall?.(performance.now() - started, false)
        throw err
      }
    },
    { step: 'initialize', name: NAME, override: true },
  )
}
