/**
 * Fire-and-forget writes that must still happen: each task runs at once in the background,
 * is retried with exponential backoff and jitter, and is logged if it finally fails — never
 * thrown at the caller. `flush()` waits for every task started so far, so an entry point can
 * keep a Lambda invocation alive (after its response is sent) until the writes are done.
 */

/** The logger subset this module needs (pino-compatible). */
export interface BackgroundLogger {
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface BackgroundWriterOptions {
  log: BackgroundLogger
  /** Attempts per task, the first included (default 4). */
  attempts?: number
  /** Backoff before the 2nd attempt; doubles each time, ±50 % jitter (default 100 ms). */
  baseDelayMs?: number
  /** Cap on one backoff pause (default 2 s). */
  maxDelayMs?: number
  sleep?: (ms: number) => Promise<void>
}

/** One background task: a label and safe-to-log details for the failure log line. */
export interface BackgroundTask {
  /** What the task does, e.g. `usage.record`. */
  label: string
  /** Logged with a final failure so the write can be replayed by hand; never put secrets here. */
  details: object
  run(): Promise<void>
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Only what identifies an error: SDK errors carry request metadata that has no place in logs. */
function errorSummary(err: unknown): object {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), status: e?.$metadata?.httpStatusCode }
}

export class BackgroundWriter {
  private readonly pending = new Set<Promise<void>>()
  private readonly attempts: number
  private readonly baseDelayMs: number
  private readonly maxDelayMs: number
  private readonly sleep: (ms: number) => Promise<void>
  /** Tasks that failed every attempt since start (a metric for tests and health checks). */
  failed = 0

  constructor(private readonly options: BackgroundWriterOptions) {
    this.attempts = Math.max(1, options.attempts ?? 4)
    this.baseDelayMs = options.baseDelayMs ?? 100
    this.maxDelayMs = options.maxDelayMs ?? 2_000
    this.sleep = options.sleep ?? defaultSleep
  }

  /** Number of tasks still running. */
  get size(): number {
    return this.pending.size
  }

  /** Starts the task after the current I/O turn and returns at once; it never rejects into the caller. */
  run(task: BackgroundTask): void {
    const p = this.execute(task).finally(() => this.pending.delete(p))
    this.pending.add(p)
  }

  /**
   * Resolves once every task started before or during the flush has finished (or given up).
   * Under a steady stream of new tasks this may never resolve: use it where requests are one at
   * a time (a Lambda invocation, shutdown). Nothing per response waits on it.
   */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending])
  }

  private async execute(task: BackgroundTask): Promise<void> {
    // Start after the current I/O turn: the SDK's synchronous work (marshalling, signing) must
    // not run between a handler's return and its response reaching the socket.
    await new Promise<void>((resolve) => setImmediate(resolve))
    for (let attempt = 1; ; attempt++) {
      try {
        await task.run()
        return
      } catch (err) {
        if (attempt >= this.attempts) {
          this.failed++
          this.options.log.error(
            { task: task.label, attempts: attempt, err: errorSummary(err), write: task.details },
            'background write failed after retries; the details above are the lost write',
          )
          return
        }
        this.options.log.warn(
          { task: task.label, attempt, err: errorSummary(err) },
          'background write failed; retrying',
        )
        const backoff = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1))
        await this.sleep(backoff * (0.5 + Math.random()))
      }
    }
  }
}
