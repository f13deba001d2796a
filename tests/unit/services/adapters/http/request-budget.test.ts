import { RequestBudget } from '../../../../../services/adapters/http/request-budget.js';
import type { Timing } from '../../../../../services/adapters/http/timing.js';

/** A clock that only moves when someone sleeps, so rate windows are exact. */
class SteppedTiming implements Timing {
  at = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.at;
  }
  async sleepUntil(deadline: number): Promise<void> {
    this.sleeps.push(deadline - this.at);
    this.at = Math.max(this.at, deadline);
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the request budget', () => {
  it('lets no more than maxConcurrentRequests be in flight, admitting the rest in order as slots free', async () => {
    // Prepare
    const budget = new RequestBudget(
      { maxConcurrentRequests: 2, requestsPerSecond: 1_000 },
      new SteppedTiming(),
    );
    const admitted: number[] = [];
    const releases = new Map<number, () => void>();

    // Act
    for (let i = 0; i < 5; i++) {
      void budget.acquire().then((release) => {
        admitted.push(i);
        releases.set(i, release);
      });
    }
    await tick();
    const first = [...admitted];
    releases.get(1)?.();
    releases.get(1)?.(); // releasing twice frees one slot only
    await tick();
    const second = [...admitted];

    // Assess
    expect(first).toEqual([0, 1]);
    expect(second).toEqual([0, 1, 2]);
    // The stepped clock stands still while a request waits for a slot: no time was spent waiting on it.
    expect(budget.stats()).toEqual({ admitted: 3, maxInFlight: 2, waits: 0, waitedMs: 0 });
  });

  it('starts at most rps requests in any one-second window', async () => {
    const timing = new SteppedTiming();
    const budget = new RequestBudget({ maxConcurrentRequests: 100, requestsPerSecond: 3 }, timing);
    const starts: number[] = [];

    for (let i = 0; i < 7; i++) {
      const release = await budget.acquire();
      starts.push(timing.now());
      release();
    }

    expect(starts).toEqual([0, 0, 0, 1_000, 1_000, 1_000, 2_000]);
    // The 4th and the 7th were asked for a full window before they could start (what BudgetWaits counts).
    expect(budget.stats()).toMatchObject({ waits: 2, waitedMs: 2_000 });
  });

  it('spaces requests below one per second', async () => {
    const timing = new SteppedTiming();
    const budget = new RequestBudget({ maxConcurrentRequests: 1, requestsPerSecond: 0.5 }, timing);
    const starts: number[] = [];
    for (let i = 0; i < 3; i++) {
      (await budget.acquire())();
      starts.push(timing.now());
    }
    expect(starts).toEqual([0, 2_000, 4_000]);
  });
});
