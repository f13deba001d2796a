import { downloaderScaling, instanceBudget } from '../../../../services/source-config/index.js';

describe('the rate budget in the cloud', () => {
  it.each([
    [2, 5, 2, 1],
    [4, 5, 2, 2],
    [7, 5, 2, 3],
    [10, 5, 2, 5],
    [20, 5, 4, 5],
    [100, 10, 10, 10],
  ])(
    'shares %i concurrent requests (batch %i) as %i instances of %i requests, never more in all',
    (requests, batch, instances, perInstance) => {
      const scaling = downloaderScaling({ maxConcurrentRequests: requests, requestsPerSecond: 20 }, batch);
      expect(scaling.maxConcurrency).toBe(instances);
      expect(scaling.perInstance.maxConcurrentRequests).toBe(perInstance);
      expect(scaling.maxConcurrency * scaling.perInstance.maxConcurrentRequests).toBeLessThanOrEqual(
        requests,
      );
      expect(scaling.perInstance.requestsPerSecond * scaling.maxConcurrency).toBeCloseTo(20);
    },
  );

  it('refuses a budget of one request at a time, which the queue (at least 2 instances) cannot keep', () => {
    expect(() => downloaderScaling({ maxConcurrentRequests: 1, requestsPerSecond: 5 }, 5)).toThrow(
      /maxConcurrentRequests must be at least 2/,
    );
  });

  it('gives an instance its share of a budget among the instances deployed', () => {
    expect(instanceBudget({ maxConcurrentRequests: 8, requestsPerSecond: 20 }, 4)).toEqual({
      maxConcurrentRequests: 2,
      requestsPerSecond: 5,
    });
  });
});
