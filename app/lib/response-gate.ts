/**
 * Holds a response until a promise settles: the app's `onSend` hook releases it, so nothing
 * of the answer (status, headers, first SSE chunk) leaves before, e.g., the call's write-ahead
 * record is durable. A rejected hold becomes the response's error instead.
 */
export class ResponseGate {
  private readonly held = new Map<string, Promise<void>>()

  /** Number of responses held now. */
  get size(): number {
    return this.held.size
  }

  /** Holds the response of `requestId` until `until` settles. Always true: any response can be held. */
  hold(requestId: string, until: Promise<void>): boolean {
    const prior = this.held.get(requestId)
    const p = prior ? Promise.all([prior, until]).then(() => undefined) : until
    this.held.set(requestId, p)
    // Once durable there is nothing to wait for; a failure stays until the response asks.
    p.then(
      () => {
        if (this.held.get(requestId) === p) this.held.delete(requestId)
      },
      () => undefined,
    )
    return true
  }

  /** Waits for the hold of `requestId`, if any; throws its error when it failed. */
  async release(requestId: string): Promise<void> {
    const p = this.held.get(requestId)
    if (!p) return
    this.held.delete(requestId)
    await p
  }

  /** Drops a hold whose response ended without being sent through the gate. */
  forget(requestId: string): void {
    this.held.delete(requestId)
  }
}
