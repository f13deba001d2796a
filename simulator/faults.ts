import * as z from 'zod';
import { DatasetSchema } from '../events/index.js';
import { Mulberry32, streamKey } from './prng.js';

const share = z.number().min(0).max(1);

/** A page that always fails with HTTP 400 (`--fail-page sensors:3`), to see a page end in the dead-letter queue. */
const FailingPageSchema = z.object({ dataset: DatasetSchema, page: z.number().int().min(1) });

/**
 * The misbehaviour of a real API, on demand. Shares are per page request and independent: with throttleRate 0.3
 * and errorRate 0.1, a request is throttled with probability 0.3, otherwise fails with 0.1, otherwise is served,
 * cut short with probability truncateRate. Token requests are never faulted, so token counts stay exact.
 */
export const FaultOptionsSchema = z.object({
  /** 429 Too Many Requests with a Retry-After. */
  throttleRate: share.default(0),
  /** 500 (no Retry-After) or 503 (with one), half and half. */
  errorRate: share.default(0),
  /** A 200 whose body stops in the middle of a row: half end the response there, half drop the connection. */
  truncateRate: share.default(0),
  /** Added before every response, tokens included. */
  latencyMs: z.number().int().min(0).max(60_000).default(0),
  /** Page requests per second above which the simulator answers 429 (a token bucket of that size); 0: no limit. */
  rateLimit: z.number().min(0).max(100_000).default(0),
  /** What Retry-After asks for, in seconds (as delta-seconds or as an HTTP-date, chosen at random). */
  retryAfterSeconds: z.number().int().min(0).max(3_600).default(1),
  failPages: z.array(FailingPageSchema).default([]),
  /** A 200 whose body is an HTML page (`content-type: text/html`), as a proxy or a login wall sends. */
  wrongContentTypeRate: share.default(0),
  /**
   * Added to `total_pages` (and `total_items`, a page's worth per page) in every answer but the first for a
   * dataset: the API's count changed between planning and downloading. The rows served do not change.
   */
  totalPagesDrift: z.number().int().min(-1_000).max(1_000).default(0),
  /** Seeds the fault draws, so a run's faults are reproducible given the same order of requests. */
  faultSeed: z.number().int().default(1),
});
export type FaultOptions = z.infer<typeof FaultOptionsSchema>;

export type FaultDecision =
  | { kind: 'serve' }
  | { kind: 'truncate'; at: number; dropConnection: boolean }
  | { kind: 'throttle' }
  | { kind: 'error'; status: 500 | 503 }
  | { kind: 'wrong-content-type' };

/** Draws the fate of each page request from one seeded stream. */
export class FaultPlan {
  private readonly random: Mulberry32;

  constructor(private readonly options: FaultOptions) {
    this.random = new Mulberry32(streamKey(options.faultSeed, 0xfa17));
  }

  next(): FaultDecision {
    const { throttleRate, errorRate, truncateRate } = this.options;
    if (throttleRate > 0 && this.random.next() < throttleRate) return { kind: 'throttle' };
    if (errorRate > 0 && this.random.next() < errorRate) {
      return { kind: 'error', status: this.random.next() < 0.5 ? 500 : 503 };
    }
    if (truncateRate > 0 && this.random.next() < truncateRate) {
      return { kind: 'truncate', at: this.random.next(), dropConnection: this.random.next() < 0.5 };
    }
    const { wrongContentTypeRate } = this.options;
    if (wrongContentTypeRate > 0 && this.random.next() < wrongContentTypeRate) {
      return { kind: 'wrong-content-type' };
    }
    return { kind: 'serve' };
  }

  /** Whether the next Retry-After is an HTTP-date rather than delta-seconds: clients must read both. */
  nextRetryAfterIsDate(): boolean {
    return this.random.next() < 0.5;
  }

  failsPage(dataset: string, page: number): boolean {
    return this.options.failPages.some((f) => f.dataset === dataset && f.page === page);
  }
}

/**
 * `Retry-After` for a wait of `seconds` from `nowMs`, and the instant before which a repeat is early. An
 * HTTP-date has whole seconds, so it is rounded up: the instant it names is never earlier than the wait asked for.
 */
export function retryAfter(
  seconds: number,
  nowMs: number,
  asDate: boolean,
): { header: string; notBefore: number } {
  if (!asDate) return { header: String(seconds), notBefore: nowMs + seconds * 1000 };
  const notBefore = Math.ceil((nowMs + seconds * 1000) / 1000) * 1000;
  return { header: new Date(notBefore).toUTCString(), notBefore };
}

/** A token bucket of `rate` tokens refilled at `rate` per second: bursts up to `rate`, `rate` per second after. */
export class RateLimiter {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly rate: number,
    nowMs: number,
  ) {
    this.tokens = rate;
    this.updatedAt = nowMs;
  }

  /** Takes a token, or says how many seconds until one is available. */
  take(nowMs: number): { allowed: true } | { allowed: false; waitSeconds: number } {
    if (this.rate <= 0) return { allowed: true };
    this.tokens = Math.min(this.rate, this.tokens + ((nowMs - this.updatedAt) / 1000) * this.rate);
    this.updatedAt = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, waitSeconds: Math.max(1, Math.ceil((1 - this.tokens) / this.rate)) };
  }
}
