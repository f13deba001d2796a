/**
 * Errors say whether retrying can help. Transient ones (throttling, 5xx, timeouts) go back to their queue or
 * bus retry policy; terminal ones (bad input, contract violations) fail fast to the dead-letter path.
 */
export class TransientError extends Error {
  override readonly name: string = 'TransientError';
  readonly retryable = true;
}

export class TerminalError extends Error {
  override readonly name: string = 'TerminalError';
  readonly retryable = false;
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof Error && 'retryable' in error && typeof error.retryable === 'boolean') {
    return error.retryable;
  }
  return true;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
