/** Time as the source's waits see it; injected so tests can run schedules without waiting. */
export interface Timing {
  /** Wall-clock epoch ms, the clock `Retry-After` dates are on. */
  now(): number;
  /** Resolves no earlier than `deadline` on `now()`. */
  sleepUntil(deadline: number): Promise<void>;
}

/**
 * Node's timers may fire a little before the wall clock reaches their deadline (libuv measures from the loop's
 * cached time), so the wait repeats until `Date.now()` has really reached it: a retry must never precede the
 * `Retry-After` it was given.
 */
export const systemTiming: Timing = {
  now: () => Date.now(),
  async sleepUntil(deadline) {
    for (let left = deadline - Date.now(); left > 0; left = deadline - Date.now()) {
      await new Promise<void>((resolve) => setTimeout(resolve, left));
    }
  },
};
