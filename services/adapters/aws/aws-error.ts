import { systemErrorCode, TerminalError, TransientError } from '../../shared/errors.js';

/**
 * Error names the SDK's own retry strategy treats as throttling or transient. They arrive here only after the
 * SDK has spent its attempts, so they go back to the queue or bus retry policy rather than to a dead letter.
 * The lists mirror @smithy's service-error-classification, which is not a dependency of ours.
 */
const THROTTLING_NAMES = new Set([
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const TRANSIENT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** The few facts of an SDK v3 error we act on, read with narrow checks since a caught value is `unknown`. */
export interface AwsErrorFacts {
  name: string;
  message: string;
  fault: 'client' | 'server' | undefined;
  httpStatus: number | undefined;
  code: string | undefined;
  throttling: boolean;
}

/** Reads one property of an unknown value without trusting its type. */
export function field(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || !(key in value)) return undefined;
  const found: unknown = Reflect.get(value, key);
  return found;
}

export function awsErrorFacts(error: unknown): AwsErrorFacts {
  const rawName = field(error, 'name');
  const message = field(error, 'message');
  const fault = field(error, '$fault');
  const status = field(field(error, '$metadata'), 'httpStatusCode');
  const name = typeof rawName === 'string' ? rawName : 'Error';
  const httpStatus = typeof status === 'number' ? status : undefined;
  return {
    name,
    message: typeof message === 'string' ? message : String(error),
    fault: fault === 'client' || fault === 'server' ? fault : undefined,
    httpStatus,
    code: systemErrorCode(error),
    throttling:
      THROTTLING_NAMES.has(name) ||
      httpStatus === 429 ||
      field(field(error, '$retryable'), 'throttling') === true,
  };
}

/** The error's name, for the few expected outcomes (NoSuchKey, ConditionalCheckFailedException) adapters branch on. */
export function awsErrorName(error: unknown): string {
  return awsErrorFacts(error).name;
}

function isTransient(error: unknown, facts: AwsErrorFacts): boolean {
  if (facts.throttling || field(error, '$retryable') !== undefined) return true;
  if (TRANSIENT_NAMES.has(facts.name) || NETWORK_CODES.has(facts.code ?? '')) return true;
  if (facts.fault === 'server' || (facts.httpStatus !== undefined && facts.httpStatus >= 500)) return true;
  if (facts.fault === 'client' || (facts.httpStatus !== undefined && facts.httpStatus >= 400)) return false;
  // Neither an AWS service error nor a known network failure: retrying is bounded by the queue's
  // maxReceiveCount, so an unknown error costs a few attempts at most, while misjudging a blip costs the run.
  return true;
}

/**
 * Turns whatever an SDK call threw into a TransientError (throttling, 5xx, timeouts, network) or a
 * TerminalError (validation, access, other 4xx), keeping the original as `cause`. Errors we classified
 * ourselves pass through unchanged.
 */
export function classifyAwsError(error: unknown, action: string): TransientError | TerminalError {
  if (error instanceof TransientError || error instanceof TerminalError) return error;
  const facts = awsErrorFacts(error);
  const status = facts.httpStatus === undefined ? '' : ` (HTTP ${facts.httpStatus})`;
  const message = `${action} failed: ${facts.name}${status}: ${facts.message}`;
  return isTransient(error, facts)
    ? new TransientError(message, { cause: error })
    : new TerminalError(message, { cause: error });
}
