/**
 * Capped exponential backoff with full jitter: the n-th retry waits a uniformly random time in
 * [0, min(maxDelay, base × 2^(n-1))), so clients throttled together do not come back together
 * (https://aws.amazon.com/builders-library/timeouts-retries-and-backoff-with-jitter/). A `Retry-After` is a floor:
 * the wait is never shorter than what the server asked for.
 */
export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

/** The upper bound of the jittered wait after `failures` failed attempts (from 1). */
export function backoffCeilingMs(failures: number, policy: BackoffPolicy): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
}

/** `random` returns a number in [0, 1); injected so tests can pin it. */
export function retryDelayMs(
  failures: number,
  policy: BackoffPolicy,
  random: () => number,
  retryAfterMs?: number,
): number {
  const jittered = Math.floor(random() * backoffCeilingMs(failures, policy));
  return Math.max(jittered, retryAfterMs ?? 0);
}
