import type { RateBudget } from '../../source-config/index.js';
import { systemTiming, type Timing } from './timing.js';

/** Releases a slot; calling it again does nothing. */
export type Release = () => void;

export interface RequestBudgetStats {
  /** Requests admitted so far. */
  admitted: number;
  /** The most requests in flight at once. */
  maxInFlight: number;
  /** Requests that could not start when asked: all slots were taken, or the rate window was full. */
  waits: number;
  /** How long those requests waited for the budget, in all (milliseconds). */
  waitedMs: number;
}

/**
 * The rate budget toward the API, shared by every request of the process (pages and tokens): at most
 * `maxConcurrentRequests` in flight, and at most `burst = max(1, floor(rps))` started in any window of
 * `burst / rps` seconds. A sliding window rather than a token bucket: a server that enforces either at this rate
 * accepts every request it lets through. Requests are admitted in arrival order.
 */
export class RequestBudget {
  private inFlight = 0;
  private maxInFlight = 0;
  private admitted = 0;
  private waits = 0;
  private waitedMs = 0;
  private readonly burst: number;
  private readonly windowMs: number;
  /** Start times of the last `burst` requests, oldest first. */
  private readonly starts: number[] = [];
  private slotFreed: (() => void) | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly budget: RateBudget,
    private readonly timing: Timing = systemTiming,
  ) {
    this.burst = Math.max(1, Math.floor(budget.requestsPerSecond));
    this.windowMs = (this.burst / budget.requestsPerSecond) * 1000;
  }

  /** Waits for a slot and for the rate window, then counts the request as started. */
  acquire(): Promise<Release> {
    // Measured from the ask, so time spent queued behind other waiting requests counts as waiting too.
    const askedAt = this.timing.now();
    const admission = this.queue.then(() => this.admit(askedAt));
    this.queue = admission.then(
      () => undefined,
      () => undefined,
    );
    return admission.then(() => {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        this.inFlight -= 1;
        this.slotFreed?.();
      };
    });
  }

  stats(): RequestBudgetStats {
    return {
      admitted: this.admitted,
      maxInFlight: this.maxInFlight,
      waits: this.waits,
      waitedMs: this.waitedMs,
    };
  }

  /** Runs for one request at a time (the queue above), so only one waiter ever waits for a slot. */
  private async admit(askedAt: number): Promise<void> {
    while (this.inFlight >= this.budget.maxConcurrentRequests) {
      await new Promise<void>((resolve) => {
        this.slotFreed = resolve;
      });
      this.slotFreed = undefined;
    }
    if (this.starts.length >= this.burst) {
      const oldest = this.starts.shift() ?? 0;
      await this.timing.sleepUntil(oldest + this.windowMs);
    }
    const now = this.timing.now();
    if (now > askedAt) {
      this.waits += 1;
      this.waitedMs += now - askedAt;
    }
    this.starts.push(now);
    this.inFlight += 1;
    this.admitted += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
  }
}
