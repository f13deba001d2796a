import * as z from 'zod';
import { readBodyAtMost } from '../../shared/bounded-body.js';
import { FleetApiTerminalError, FleetApiTransientError } from './errors.js';
import { parseRetryAfter } from './retry-after.js';

/** The fields of an error body worth quoting; anything else the API sends back is not repeated. */
const ErrorBodySchema = z.object({
  error: z.string().max(64).optional(),
  error_description: z.string().optional(),
  message: z.string().optional(),
  parameter: z.string().max(64).optional(),
});

/** Redirects followed per request, as browsers cap them (fetch's own limit is 20). */
const MAX_REDIRECTS = 5;

/**
 * One HTTP exchange; failing to get any response is transient. Redirects are followed here, and only within the
 * request's origin: fetch would follow a 307 to any host and re-send the body there (a client secret sent in the
 * form body), and it keeps every header but `authorization` (a secret header the configuration adds). A redirect
 * to another origin fails the request, naming that origin, before anything is sent to it.
 */
export async function send(
  fetcher: typeof fetch,
  url: URL | string,
  init: RequestInit,
  what: string,
  timeoutMs: number,
): Promise<Response> {
  let target = new URL(url);
  let request: RequestInit = { ...init, redirect: 'manual' };
  for (let redirects = 0; ; redirects += 1) {
    let response: Response;
    try {
      response = await fetcher(target, request);
    } catch (error) {
      throw unreachable(error, what, timeoutMs);
    }
    const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get('location') : null;
    if (location === null) return response;
    await discard(response);
    const next = redirectTarget(location, target, response.status, what, redirects);
    // 303, and 301/302 after a POST, are followed with a GET without the body (RFC 9110 §15.4, as fetch does).
    const asGet =
      response.status === 303 ||
      ((response.status === 301 || response.status === 302) && request.method === 'POST');
    request = asGet ? { ...request, method: 'GET', body: null } : request;
    target = next;
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

function redirectTarget(location: string, from: URL, status: number, what: string, redirects: number): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new FleetApiTerminalError(
      `fleet API redirected ${what} (HTTP ${status}) to an invalid location`,
      status,
    );
  }
  if (next.origin !== from.origin) {
    throw new FleetApiTerminalError(
      `fleet API redirected ${what} (HTTP ${status}) to another origin, ${next.origin}; not followed, since the ` +
        `request's credentials would go there (point the configuration at ${next.origin} if it is the API)`,
      status,
    );
  }
  if (redirects >= MAX_REDIRECTS) {
    throw new FleetApiTerminalError(`fleet API redirected ${what} more than ${MAX_REDIRECTS} times`, status);
  }
  return next;
}

/**
 * A body that only a few fields matter in (a token, an error's reason) is read up to a limit, never whole
 * (readBodyAtMost says why).
 */
export const TOKEN_BODY_LIMIT_BYTES = 64 * 1024;
const ERROR_BODY_LIMIT_BYTES = 16 * 1024;

/** The body as text, or undefined when it is longer than `limitBytes`. */
async function readAtMost(response: Response, limitBytes: number): Promise<string | undefined> {
  const bytes = await readBodyAtMost(response, limitBytes);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}

/** A body read whole up to `limitBytes`; a longer one is refused (terminal: it is not what was asked for). */
export async function readText(
  response: Response,
  what: string,
  timeoutMs: number,
  limitBytes: number,
): Promise<string> {
  let text: string | undefined;
  try {
    text = await readAtMost(response, limitBytes);
  } catch (error) {
    throw brokenBody(error, response.status, what, timeoutMs);
  }
  if (text === undefined) {
    throw new FleetApiTerminalError(
      `fleet API answered ${what} with a body larger than ${Math.round(limitBytes / 1024)} KiB`,
      response.status,
    );
  }
  return text;
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
function fieldOf(value: unknown, field: 'name' | 'message' | 'code'): string | undefined;
function fieldOf(value: unknown, field: 'cause'): unknown;
function fieldOf(value: unknown, field: string): unknown {
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
  let text: string | undefined;
  try {
    text = await readAtMost(response, ERROR_BODY_LIMIT_BYTES);
  } catch {
    return '';
  }
  // An error body longer than a reason can be is not read further, nor quoted.
  if (text === undefined) return '';
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

/**
 * Removes secrets from text an API sent back (an error body), in the forms they travel in as well as their own: an
 * API that echoes the request may quote the secret form-encoded, percent-encoded or base64-encoded.
 */
function scrub(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    for (const form of encodedForms(secret)) result = result.replaceAll(form, '[redacted]');
  }
  return result;
}

/** A secret as it may appear on the wire; the longest first, so a form containing another is removed whole. */
function encodedForms(secret: string): string[] {
  if (secret === '') return [];
  const forms = new Set([
    secret,
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, '+'),
    Buffer.from(secret).toString('base64'),
    Buffer.from(secret).toString('base64').replace(/=+$/, ''),
    Buffer.from(secret).toString('base64url'),
  ]);
  return [...forms].filter((form) => form !== '').sort((a, b) => b.length - a.length);
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
