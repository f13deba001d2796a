import * as z from 'zod';
import { FleetApiTerminalError, FleetApiTransientError } from './errors.js';
import { parseRetryAfter } from './retry-after.js';

/** The fields of an error body worth quoting; anything else the API sends back is not repeated. */
const ErrorBodySchema = z.object({
  error: z.string().max(64).optional(),
  error_description: z.string().optional(),
  message: z.string().optional(),
  parameter: z.string().max(64).optional(),
});

/** One HTTP exchange; failing to get any response is transient. */
export async function send(
  fetcher: typeof fetch,
  url: URL | string,
  init: RequestInit,
  what: string,
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetcher(url, init);
  } catch (error) {
    throw unreachable(error, what, timeoutMs);
  }
}

export async function readText(response: Response, what: string, timeoutMs: number): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw brokenBody(error, response.status, what, timeoutMs);
  }
}

/** The connection failed or timed out while the body was arriving. */
export function brokenBody(
  error: unknown,
  status: number,
  what: string,
  timeoutMs: number,
): FleetApiTransientError {
  return new FleetApiTransientError(
    `fleet API connection broke while reading ${what}: ${reasonOf(error, timeoutMs)}`,
    status,
    undefined,
    { cause: error, kind: 'network' },
  );
}

function unreachable(error: unknown, what: string, timeoutMs: number): FleetApiTransientError {
  return new FleetApiTransientError(
    `fleet API unreachable for ${what}: ${reasonOf(error, timeoutMs)}`,
    undefined,
    undefined,
    { cause: error },
  );
}

/** undici reports "fetch failed" and hides the socket error (ECONNREFUSED, ...) in `cause`. */
function reasonOf(error: unknown, timeoutMs: number): string {
  const name = fieldOf(error, 'name');
  if (
    name === 'TimeoutError' ||
    (name === 'AbortError' && /timeout/i.test(fieldOf(error, 'message') ?? ''))
  ) {
    return `timed out after ${timeoutMs} ms`;
  }
  const cause = fieldOf(error, 'cause');
  if (fieldOf(cause, 'name') === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  return fieldOf(cause, 'code') ?? fieldOf(cause, 'message') ?? fieldOf(error, 'message') ?? String(error);
}

/**
 * A string field of an error-like value. Duck-typed on purpose: fetch's errors (DOMException, undici's
 * TypeError) may come from another realm, where `instanceof Error` is false.
 */
export function fieldOf(value: unknown, field: 'name' | 'message' | 'code'): string | undefined;
export function fieldOf(value: unknown, field: 'cause'): unknown;
export function fieldOf(value: unknown, field: string): unknown {
  if (typeof value !== 'object' || value === null || !(field in value)) {
    return undefined;
  }
  const found: unknown = Reflect.get(value, field);
  return field === 'cause' || typeof found === 'string' ? found : undefined;
}

/**
 * Classifies a non-2xx response: 408, 429 and 5xx may pass, anything else will not. The error body is quoted only
 * through ErrorBodySchema, with the given secrets scrubbed.
 */
export async function failureOf(
  response: Response,
  prefix: string,
  secrets: readonly string[],
  nowMs: number,
): Promise<FleetApiTransientError | FleetApiTerminalError> {
  const { status } = response;
  const detail = scrub(await errorDetail(response), secrets);
  const message = `${prefix}: HTTP ${status}${detail ? ` ${detail}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), nowMs);
    const retry = retryAfterMs === undefined ? '' : ` (retry after ${Math.ceil(retryAfterMs / 1000)} s)`;
    return new FleetApiTransientError(`${message}${retry}`, status, retryAfterMs);
  }
  return new FleetApiTerminalError(message, status);
}

async function errorDetail(response: Response): Promise<string> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    return '';
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return '';
  }
  const parsed = ErrorBodySchema.safeParse(body);
  if (!parsed.success) {
    return '';
  }
  const { error, error_description: description, message, parameter } = parsed.data;
  const parts = [
    error,
    description ?? message,
    parameter === undefined ? undefined : `(parameter ${parameter})`,
  ];
  return parts
    .filter((part) => part !== undefined && part !== '')
    .join(' ')
    .slice(0, 300);
}

export function scrub(text: string, secrets: readonly string[]): string {
  return secrets.reduce(
    (result, secret) => (secret === '' ? result : result.replaceAll(secret, '[redacted]')),
    text,
  );
}

/** Lets go of an unwanted body so its connection can be reused or closed. */
export async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // The body is unwanted; a failure to discard it changes nothing.
  }
}

/** Paths and messages only: zod messages do not quote the offending values, which may be secrets. */
export function issuesOf(error: z.ZodError, limit = 3): string {
  return error.issues
    .slice(0, limit)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`)
    .join('; ');
}
