/**
 * Counts work that is still pending anywhere in the local runtime (deliveries, queued messages, invocations).
 * When the count returns to zero nothing can produce more work, so the run has settled.
 */
export class WorkTracker {
  private pending = 0;
  private waiters: (() => void)[] = [];

  begin(): void {
    this.pending += 1;
  }

  end(): void {
    this.pending -= 1;
    if (this.pending === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  get busy(): boolean {
    return this.pending > 0;
  }

  /** Resolves when no work is pending; immediately if none is. */
  settled(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
