import { setTimeout as wait } from 'node:timers/promises';
import { TerminalError, TransientError } from '../../shared/errors.js';

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = async (ms) => {
  await wait(ms);
};

/** How an adapter retries what the SDK cannot: entries a batch API reported as failed inside a 200 response. */
export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injected so tests run without waiting. */
  sleep?: Sleep;
  /** A number in [0, 1), for the jitter; injected so tests can pin it. */
  random?: () => number;
}

export type RetryPolicy = Required<RetryOptions>;

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy: RetryPolicy = {
    maxAttempts: options.maxAttempts ?? 4,
    baseDelayMs: options.baseDelayMs ?? 100,
    maxDelayMs: options.maxDelayMs ?? 5_000,
    sleep: options.sleep ?? realSleep,
    random: options.random ?? Math.random,
  };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be a positive integer, got ${policy.maxAttempts}`);
  }
  return policy;
}

/**
 * Capped exponential backoff with full jitter, so that clients throttled together do not retry together
 * (https://aws.amazon.com/builders-library/timeouts-retries-and-backoff-with-jitter/). `failures` counts the
 * attempts that failed so far, from 1.
 */
export function backoffDelayMs(failures: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failures - 1));
  return Math.floor(policy.random() * ceiling);
}

/** One entry a batch call did not accept, with the service's code and whether sending it again can help. */
export interface EntryFailure<E> {
  entry: E;
  code: string;
  retryable: boolean;
}

export interface ResendDescription<E> {
  /** e.g. `SQS SendMessageBatch to <queue>`. */
  action: string;
  /** Names an entry in the error message, e.g. its detail-type. */
  label: (entry: E) => string;
}

const LISTED_FAILURES = 10;

function summarize<E>(failures: readonly EntryFailure<E>[], label: (entry: E) => string): string {
  const counts = new Map<string, number>();
  for (const failure of failures) {
    const key = `${label(failure.entry)} (${failure.code})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const listed = [...counts].slice(0, LISTED_FAILURES).map(([key, n]) => (n > 1 ? `${key} x${n}` : key));
  const more = counts.size > LISTED_FAILURES ? `, and ${counts.size - LISTED_FAILURES} more` : '';
  return listed.join(', ') + more;
}

/**
 * Sends a batch, then re-sends only the entries the service reported as failed, with backoff, until none fail.
 * Batch APIs (SendMessageBatch, PutEvents) answer 200 when some entries failed, so the SDK's retries never see
 * those. A failure the service calls non-retryable ends the call at once with a TerminalError; failures left
 * after the last attempt end it with a TransientError, so the caller's queue or bus retries the whole message.
 */
export async function sendResendingFailures<E>(
  entries: readonly E[],
  sendOnce: (pending: readonly E[]) => Promise<readonly EntryFailure<E>[]>,
  policy: RetryPolicy,
  description: ResendDescription<E>,
): Promise<void> {
  let pending = entries;
  for (let attempt = 1; ; attempt += 1) {
    const failures = await sendOnce(pending);
    if (failures.length === 0) return;
    const terminal = failures.filter((failure) => !failure.retryable);
    if (terminal.length > 0) {
      throw new TerminalError(
        `${description.action}: ${terminal.length} of ${entries.length} entries were refused: ${summarize(terminal, description.label)}`,
      );
    }
    if (attempt >= policy.maxAttempts) {
      throw new TransientError(
        `${description.action}: ${failures.length} of ${entries.length} entries still failed after ${attempt} attempts: ${summarize(failures, description.label)}`,
      );
    }
    await policy.sleep(backoffDelayMs(attempt, policy));
    pending = failures.map((failure) => failure.entry);
  }
}
