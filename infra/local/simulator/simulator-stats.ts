export type SimulatorEndpoint = 'token' | 'vehicles' | 'sensors' | 'other';

/** What the simulator saw, for tests and benchmarks that assert on the client's behaviour. */
export interface SimulatorStats {
  requests: Record<SimulatorEndpoint, number>;
  /** Token requests answered with a token (the others were refused). */
  tokensIssued: number;
  /** Responses with status 401, from any endpoint. */
  unauthorized: number;
  concurrentRequests: number;
  maxConcurrentRequests: number;
}

export class StatsRecorder {
  private readonly requests: Record<SimulatorEndpoint, number> = {
    token: 0,
    vehicles: 0,
    sensors: 0,
    other: 0,
  };
  private tokensIssued = 0;
  private unauthorized = 0;
  private concurrent = 0;
  private maxConcurrent = 0;

  /** Counts a request and returns the function to call once its response is finished or aborted. */
  started(endpoint: SimulatorEndpoint): () => void {
    this.requests[endpoint] += 1;
    this.concurrent += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    let done = false;
    return () => {
      if (!done) {
        done = true;
        this.concurrent -= 1;
      }
    };
  }

  tokenIssued(): void {
    this.tokensIssued += 1;
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
      unauthorized: this.unauthorized,
      concurrentRequests: this.concurrent,
      maxConcurrentRequests: this.maxConcurrent,
    };
  }
}
