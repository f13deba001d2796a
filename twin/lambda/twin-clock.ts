/**
 * The time the twin's functions see: real time plus what the twin has skipped. Lambda waits a minute, then two,
 * between the attempts of a failed asynchronous invocation; the twin does not wait them out but moves this clock
 * on, so a function's retry sees the time it would see in AWS (a lease written before it has expired) at once.
 * Only the functions' clocks move: the emulators (SQS visibility timeouts) and the front keep real time.
 */
export class TwinClock {
  #skippedMs = 0;

  /** How far the functions' clocks are ahead of real time. */
  get offsetMs(): number {
    return this.#skippedMs;
  }

  now(): Date {
    return new Date(Date.now() + this.#skippedMs);
  }

  /** Time passes for every function of the twin at once, as it would while Lambda waits. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`the twin's clock only moves on, not by ${ms} ms`);
    this.#skippedMs += ms;
  }
}
