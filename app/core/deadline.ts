/**
 * The call deadline: the moment (epoch ms) by which a call must have ended, because the runtime
 * that serves it stops then (a Lambda invocation, minus a safety margin for the last bytes and the
 * usage writes). One deadline on the call context; the chat use case honours it for both answer
 * forms (services/chat.ts) and the provider honours it through the abort signal it already
 * follows, so no front door and no provider has code of its own for it.
 *
 * Lambda's limit: https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
 */

/** Why a streamed answer was ended by this gateway rather than by the model. */
export interface Cutoff {
  code: 'deadline_exceeded'
  /** Shown to the client (an SSE comment and a field of the door's last event). */
  message: string
}

/** What the chat use case reports when the deadline ended a call (see CallContext.onDeadline). */
export interface DeadlineEnd {
  /** True for a stream ended cleanly with a partial answer; false for a non-streamed call answered 504. */
  streamed: boolean
  /** Output tokens produced before the cut (estimated), streams only. */
  outputTokens?: number
}

/**
 * The field every front door adds to the last event of a stream the deadline ended (OpenAI chat:
 * the finish chunk; Anthropic: message_delta; Responses: response.incomplete), holding the
 * {@link Cutoff}. Clients ignore unknown fields; people and tooling can look for it.
 */
export const CUTOFF_FIELD = 'pennyworth_warning'

/** The message of the last event of a stream ended by the deadline. */
export const DEADLINE_CUTOFF_MESSAGE =
  'pennyworth ended this answer before the model finished: the gateway reached the time limit of its ' +
  'serverless runtime (15 minutes). The text so far is complete up to this point; ask for the rest in a new request.'

/** A signal that fires at the deadline or when the caller's own signal fires, whichever is first. */
export interface DeadlineScope {
  signal: AbortSignal
  /** True once the deadline (not the caller's signal) aborted the call. */
  readonly expired: boolean
  /** Stops the timer; call once the call has ended. */
  dispose(): void
}

/** Milliseconds left until `deadline` (Infinity without one). */
export function remainingMs(deadline: number | undefined, now: number = Date.now()): number {
  return deadline === undefined ? Number.POSITIVE_INFINITY : deadline - now
}

/**
 * A {@link DeadlineScope} over `signal`. Without a deadline the caller's signal is returned as it
 * is (no timer, no listener: the common local case costs nothing).
 */
export function deadlineScope(
  signal: AbortSignal,
  deadline: number | undefined,
  now: number = Date.now(),
): DeadlineScope {
  if (deadline === undefined) return { signal, expired: false, dispose() {} }
  const controller = new AbortController()
  let expired = false
  const follow = () => controller.abort(signal.reason)
  if (signal.aborted) follow()
  else signal.addEventListener('abort', follow, { once: true })
  const timer = setTimeout(
    () => {
      expired = true
      const reason = new Error('call deadline reached')
      reason.name = 'AbortError'
      controller.abort(reason)
    },
    Math.max(0, deadline - now),
  )
  // A pending deadline never keeps a process (tests, the local server) alive.
  timer.unref?.()
  return {
    signal: controller.signal,
    get expired() {
      return expired
    },
    dispose() {
      clearTimeout(timer)
      signal.removeEventListener('abort', follow)
    },
  }
}
