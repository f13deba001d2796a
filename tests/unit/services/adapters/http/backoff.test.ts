import { backoffCeilingMs, retryDelayMs } from '../../../../../services/adapters/http/backoff.js';

const policy = { baseDelayMs: 250, maxDelayMs: 20_000 };

describe('the backoff schedule', () => {
  it('doubles the ceiling with each failure, up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => backoffCeilingMs(n, policy))).toEqual([
      250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 20_000, 20_000,
    ]);
    expect(backoffCeilingMs(10_000, policy)).toBe(20_000);
  });

  it('waits a uniformly random time below the ceiling (full jitter)', () => {
    expect(retryDelayMs(3, policy, () => 0)).toBe(0);
    expect(retryDelayMs(3, policy, () => 0.5)).toBe(500);
    expect(retryDelayMs(3, policy, () => 0.999_999)).toBe(999);
  });

  it('never waits less than Retry-After, even beyond the maximum delay', () => {
    expect(retryDelayMs(1, policy, () => 0.5, 2_000)).toBe(2_000);
    expect(retryDelayMs(5, policy, () => 0.9, 1_000)).toBe(3_600);
    expect(retryDelayMs(1, policy, () => 0, 60_000)).toBe(60_000);
  });
});
