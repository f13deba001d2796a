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
  if (
    typeof error === 'object' &&
    error !== null &&
    'retryable' in error &&
    typeof error.retryable === 'boolean'
  ) {
    return error.retryable;
  }
  return true;
}

export function describeError(error: unknown): string {
  if (
    typeof error === 'object' &&
    error !== null &&
    'message' in error &&
    typeof error.message === 'string'
  ) {
    return error.message;
  }
  return String(error);
}

/**
 * The `code` of a Node.js system error (ENOENT, EEXIST, ...). Checked structurally rather than with
 * `instanceof Error`, which fails for errors created in another realm (jest's VM contexts, worker threads).
 */
export function systemErrorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}
