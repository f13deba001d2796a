import type { ServerResponse } from 'node:http';

export type SimulatorEndpoint = 'token' | 'vehicles' | 'sensors' | 'other';

/** A request that came before the Retry-After the simulator had given for its URL. */
export interface EarlyRequest {
  url: string;
  /** How much too soon it came. */
  earlyByMs: number;
}

/** What the simulator saw, for tests and benchmarks that assert on the client's behaviour. */
export interface SimulatorStats {
  requests: Record<SimulatorEndpoint, number>;
  /** Token requests answered with a token (the others were refused). */
  tokensIssued: number;
  /**
   * Token requests that were not needed: made while another token request was being answered, or while the
   * latest token (not revoked) was younger than half its lifetime. A client that asks once per expiry has none.
   */
  redundantTokenRequests: number;
  /** Responses with status 401, from any endpoint. */
  unauthorized: number;
  concurrentRequests: number;
  maxConcurrentRequests: number;
  /** Page requests for a URL requested before: retries, and the downloader reading page 1 after the planner. */
  repeatedRequests: number;
  /** Requests that came before the Retry-After given for their URL; a well-behaved client has none. */
  earlyRequests: number;
  /** The first few early requests, for a readable failure. */
  earlyExamples: EarlyRequest[];
  faults: {
    /** 429s from --throttle-rate. */
    throttled: number;
    /** 429s from --rate-limit. */
    rateLimited: number;
    /** 500s and 503s from --error-rate. */
    serverErrors: number;
    /** Bodies cut short by --truncate-rate. */
    truncated: number;
    /** 400s from --fail-page. */
    failedPages: number;
    /** HTML bodies served with a 200 (wrongContentTypeRate). */
    wrongContentType: number;
    /** Answers whose total_pages was changed (totalPagesDrift). */
    driftedTotals: number;
  };
  /** Page bodies sent whole. */
  pagesServed: number;
}

export type FaultName = keyof SimulatorStats['faults'];

const EARLY_EXAMPLES = 5;

export class StatsRecorder {
  private readonly requests: Record<SimulatorEndpoint, number> = {
    token: 0,
    vehicles: 0,
    sensors: 0,
    other: 0,
  };
  private tokensIssued = 0;
  private redundantTokenRequests = 0;
  private tokenRequestsInFlight = 0;
  private latestToken: { issuedAt: number; ttlMs: number } | undefined;
  private unauthorized = 0;
  private concurrent = 0;
  private maxConcurrent = 0;
  private repeatedRequests = 0;
  private earlyRequests = 0;
  private readonly earlyExamples: EarlyRequest[] = [];
  private readonly seen = new Set<string>();
  /** Per URL, the instant its last Retry-After allowed it again. */
  private readonly notBefore = new Map<string, number>();
  private readonly faults: SimulatorStats['faults'] = {
    throttled: 0,
    rateLimited: 0,
    serverErrors: 0,
    truncated: 0,
    failedPages: 0,
    wrongContentType: 0,
    driftedTotals: 0,
  };
  private pagesServed = 0;

  /**
   * Counts a request as in flight until its response is finished (its last byte handed to the socket, before the
   * client can have read it) or its connection closed, whichever comes first.
   */
  started(endpoint: SimulatorEndpoint, response: ServerResponse): void {
    this.requests[endpoint] += 1;
    this.concurrent += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        this.concurrent -= 1;
      }
    };
    response.once('finish', finish);
    response.once('close', finish);
  }

  /** A page request arrived at `arrivedAt` (wall clock) for `url` (path and query). */
  pageRequested(url: string, arrivedAt: number): void {
    if (this.seen.has(url)) this.repeatedRequests += 1;
    this.seen.add(url);
    const allowedAt = this.notBefore.get(url);
    if (allowedAt !== undefined && arrivedAt < allowedAt) {
      this.earlyRequests += 1;
      if (this.earlyExamples.length < EARLY_EXAMPLES) {
        this.earlyExamples.push({ url, earlyByMs: allowedAt - arrivedAt });
      }
    }
  }

  /** The response for `url` said Retry-After: nothing for that URL may come before `notBefore`. */
  retryAfterGiven(url: string, notBefore: number): void {
    this.notBefore.set(url, Math.max(this.notBefore.get(url) ?? 0, notBefore));
  }

  /** A token request arrived (on the token clock); returns the function to call once it is answered. */
  tokenRequested(now: number): () => void {
    const latest = this.latestToken;
    if (
      this.tokenRequestsInFlight > 0 ||
      (latest !== undefined && now - latest.issuedAt < latest.ttlMs / 2)
    ) {
      this.redundantTokenRequests += 1;
    }
    this.tokenRequestsInFlight += 1;
    let answered = false;
    return () => {
      if (!answered) {
        answered = true;
        this.tokenRequestsInFlight -= 1;
      }
    };
  }

  tokenIssued(now: number, ttlMs: number): void {
    this.tokensIssued += 1;
    this.latestToken = { issuedAt: now, ttlMs };
  }

  /** Every token was revoked: asking for a new one right away is what a client must do. */
  tokensRevoked(): void {
    this.latestToken = undefined;
  }

  fault(name: FaultName): void {
    this.faults[name] += 1;
  }

  pageServed(): void {
    this.pagesServed += 1;
  }

  refused(status: number): void {
    if (status === 401) {
      this.unauthorized += 1;
    }
  }

  snapshot(): SimulatorStats {
    return {
      requests: { ...this.requests },
      tokensIssued: this.tokensIssued,
      redundantTokenRequests: this.redundantTokenRequests,
      unauthorized: this.unauthorized,
      concurrentRequests: this.concurrent,
      maxConcurrentRequests: this.maxConcurrent,
      repeatedRequests: this.repeatedRequests,
      earlyRequests: this.earlyRequests,
      earlyExamples: [...this.earlyExamples],
      faults: { ...this.faults },
      pagesServed: this.pagesServed,
    };
  }
}
