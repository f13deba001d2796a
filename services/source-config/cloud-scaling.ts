import type { RateBudget } from './schema.js';

/**
 * How one rate budget toward the API is shared in the cloud, where every downloader instance is its own process
 * with its own limiter. The tasks queue's event source caps the number of instances (`maxConcurrency`, at least 2:
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html#events-sqs-max-concurrency), and each
 * instance gets an equal share of the budget, so that instances × share never exceeds it.
 */
export interface DownloaderScaling {
  /** The SQS event source mapping's ScalingConfig.MaximumConcurrency. */
  maxConcurrency: number;
  /** The budget of one downloader instance. */
  perInstance: RateBudget;
}

/** Lambda's lower bound for MaximumConcurrency. */
export const MIN_EVENT_SOURCE_CONCURRENCY = 2;

export function downloaderScaling(budget: RateBudget, batchSize: number): DownloaderScaling {
  if (budget.maxConcurrentRequests < MIN_EVENT_SOURCE_CONCURRENCY) {
    throw new RangeError(
      `rateBudget.maxConcurrentRequests must be at least ${MIN_EVENT_SOURCE_CONCURRENCY} in the cloud, where the queue runs at least ${MIN_EVENT_SOURCE_CONCURRENCY} downloaders at once`,
    );
  }
  // As many requests per instance as a batch has pages (a batch then runs at full speed), but never so many that
  // fewer than two instances would be allowed.
  const perInstanceRequests = Math.max(
    1,
    Math.min(batchSize, Math.floor(budget.maxConcurrentRequests / MIN_EVENT_SOURCE_CONCURRENCY)),
  );
  const maxConcurrency = Math.floor(budget.maxConcurrentRequests / perInstanceRequests);
  return {
    maxConcurrency,
    perInstance: {
      maxConcurrentRequests: perInstanceRequests,
      requestsPerSecond: budget.requestsPerSecond / maxConcurrency,
    },
  };
}

/** One instance's share when the queue runs up to `maxConcurrency` instances (as deployed). */
export function instanceBudget(budget: RateBudget, maxConcurrency: number): RateBudget {
  const instances = Math.max(1, maxConcurrency);
  return {
    maxConcurrentRequests: Math.max(1, Math.floor(budget.maxConcurrentRequests / instances)),
    requestsPerSecond: budget.requestsPerSecond / instances,
  };
}
