import { z } from 'zod';
import type { Dataset } from '../../../events/index.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import type { FetchedPage, FleetSource, PageRequest } from '../../ports/fleet-source.js';
import { TerminalError, TransientError } from '../../shared/errors.js';
import { rowSchemas } from '../../shared/rows.js';

/**
 * The fleet REST API over `fetch`: OAuth 2.0 client credentials, one GET per page. One call is one attempt
 * (plus one retry after a 401 with a fresh token); backoff and the rate budget wrap `fetchPage` from outside.
 */

export const DEFAULT_FLEET_ENDPOINTS: Readonly<Record<Dataset, string>> = {
  vehicles: '/v1/vehicles',
  sensors: '/v1/sensors',
};

export interface FleetApiSourceConfig {
  baseUrl: string;
  /** Absolute, or relative to `baseUrl`. */
  tokenUrl: string;
  clientId: string;
  /** Read from the Secrets port when a token is requested, so the secret is never kept in configuration. */
  clientSecret: () => Promise<string>;
  /** Paths under `baseUrl`; defaults to DEFAULT_FLEET_ENDPOINTS. */
  endpoints?: Partial<Record<Dataset, string>>;
  /** Per request, body included. */
  requestTimeoutMs?: number;
  clock?: Clock;
  fetch?: typeof fetch;
}

const ConfigSchema = z.object({
  baseUrl: z.url({ protocol: /^https?$/ }),
  tokenUrl: z.string().min(1),
  clientId: z.string().min(1),
  endpoints: z
    .object({ vehicles: z.string().startsWith('/'), sensors: z.string().startsWith('/') })
    .partial()
    .optional(),
  requestTimeoutMs: z.number().int().positive().default(30_000),
});

/** The API may answer differently later: 429, 5xx, network failures, timeouts. */
export class FleetApiTransientError extends TransientError {
  override readonly name = 'FleetApiTransientError';

  constructor(
    message: string,
    /** HTTP status, when there was a response. */
    readonly status: number | undefined,
    /** From `Retry-After`, when the API sent one. */
    readonly retryAfterMs: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Asking again cannot help: rejected credentials, other 4xx, a body that breaks the contract. */
export class FleetApiTerminalError extends TerminalError {
  override readonly name = 'FleetApiTerminalError';

  constructor(
    message: string,
    readonly status: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Tokens are refreshed this long before they expire, so a token never expires on its way to the API. */
const TOKEN_REFRESH_MARGIN_MS = 60_000;
/** expires_in is only RECOMMENDED (RFC 6749 §5.1); without it a token is kept this long. */
const DEFAULT_TOKEN_LIFETIME_S = 300;

const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'token_type must be Bearer'),
  expires_in: z.number().positive().optional(),
});

const PageEnvelopeSchema = z.object({
  page: z.number().int().optional(),
  total_pages: z.number().int().min(0),
  data: z.array(z.unknown()),
});

/** The fields of an error body worth quoting; anything else the API sends back is not repeated. */
const ErrorBodySchema = z.object({
  error: z.string().max(64).optional(),
  error_description: z.string().optional(),
  message: z.string().optional(),
  parameter: z.string().max(64).optional(),
});

export class FleetApiSource implements FleetSource {
  private readonly baseUrl: string;
  private readonly endpoints: Record<Dataset, string>;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly tokens: ClientCredentialsTokens;

  constructor(config: FleetApiSourceConfig) {
    const parsed = ConfigSchema.safeParse(config);
    if (!parsed.success) {
      throw new TerminalError(`invalid fleet API configuration: ${z.prettifyError(parsed.error)}`, {
        cause: parsed.error,
      });
    }
    this.baseUrl = parsed.data.baseUrl.replace(/\/+$/, '');
    this.endpoints = { ...DEFAULT_FLEET_ENDPOINTS, ...parsed.data.endpoints };
    this.timeoutMs = parsed.data.requestTimeoutMs;
    this.fetch = config.fetch ?? globalThis.fetch;
    this.tokens = new ClientCredentialsTokens({
      tokenUrl: new URL(parsed.data.tokenUrl, `${this.baseUrl}/`).toString(),
      clientId: parsed.data.clientId,
      clientSecret: config.clientSecret,
      clock: config.clock ?? systemClock,
      timeoutMs: this.timeoutMs,
      fetch: this.fetch,
    });
  }

  async fetchPage(request: PageRequest): Promise<FetchedPage> {
    const what = `${request.dataset} page ${request.page}`;
    const url = this.pageUrl(request);
    let token = await this.tokens.current();
    let response = await this.get(url, token, what);
    if (response.status === 401) {
      // The token may have been revoked or expired early on the provider's side: one fresh token, one retry.
      await discard(response);
      this.tokens.invalidate(token);
      token = await this.tokens.current();
      response = await this.get(url, token, what);
      if (response.status === 401) {
        await discard(response);
        throw new FleetApiTerminalError(
          `fleet API refused a freshly issued access token for ${what} (HTTP 401)`,
          401,
        );
      }
    }
    if (!response.ok) {
      throw await failureOf(response, `fleet API failed ${what}`, [token]);
    }
    return parsePage(await readText(response, what), request);
  }

  private pageUrl({ dataset, window, page, pageSize }: PageRequest): URL {
    const url = new URL(`${this.baseUrl}${this.endpoints[dataset]}`);
    url.searchParams.set('fromCreationDate', window.from);
    url.searchParams.set('toCreationDate', window.to);
    url.searchParams.set('timeZone', window.timeZone);
    url.searchParams.set('pageSize', String(pageSize));
    url.searchParams.set('page', String(page));
    return url;
  }

  private get(url: URL, token: string, what: string): Promise<Response> {
    return send(
      this.fetch,
      url,
      {
        method: 'GET',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      },
      what,
      this.timeoutMs,
    );
  }
}

/** Rows are parsed, not cast: what the downloader stores is exactly what the row schema lets through. */
function parsePage(text: string, { dataset, page, pageSize }: PageRequest): FetchedPage {
  const what = `${dataset} page ${page}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new FleetApiTerminalError(`fleet API sent ${what} that is not JSON`, 200, { cause: error });
  }
  const envelope = PageEnvelopeSchema.safeParse(body);
  if (!envelope.success) {
    throw new FleetApiTerminalError(`fleet API sent an invalid ${what}: ${issuesOf(envelope.error)}`, 200, {
      cause: envelope.error,
    });
  }
  const { data, total_pages: totalPages, page: echoedPage } = envelope.data;
  if (echoedPage !== undefined && echoedPage !== page) {
    throw new FleetApiTerminalError(`fleet API answered ${what} with page ${echoedPage}`, 200);
  }
  if (data.length > pageSize) {
    throw new FleetApiTerminalError(
      `fleet API sent ${data.length} rows for ${what} of page size ${pageSize}`,
      200,
    );
  }
  const schema = rowSchemas[dataset];
  const rows: unknown[] = new Array(data.length);
  for (let index = 0; index < data.length; index++) {
    const row = schema.safeParse(data[index]);
    if (!row.success) {
      throw new FleetApiTerminalError(
        `fleet API sent an invalid ${what}: row ${index}: ${issuesOf(row.error)}`,
        200,
        {
          cause: row.error,
        },
      );
    }
    rows[index] = row.data;
  }
  return { totalPages, rows };
}

/** Paths and messages only: zod messages do not quote the offending values, which may be secrets. */
function issuesOf(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`)
    .join('; ');
}

interface TokenSourceConfig {
  tokenUrl: string;
  clientId: string;
  clientSecret: () => Promise<string>;
  clock: Clock;
  timeoutMs: number;
  fetch: typeof fetch;
}

/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4). The token is cached until shortly before it expires, and
 * concurrent callers share one token request instead of each asking for their own.
 */
class ClientCredentialsTokens {
  private cached: { token: string; refreshAt: number } | undefined;
  private inFlight: Promise<string> | undefined;

  constructor(private readonly config: TokenSourceConfig) {}

  current(): Promise<string> {
    if (this.cached && this.config.clock.now().getTime() < this.cached.refreshAt) {
      return Promise.resolve(this.cached.token);
    }
    if (this.inFlight === undefined) {
      this.inFlight = this.request().finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  /** Forgets a token the API refused, unless another caller already replaced it. */
  invalidate(refused: string): void {
    if (this.cached?.token === refused) {
      this.cached = undefined;
    }
  }

  private async request(): Promise<string> {
    const { tokenUrl, clientId, clock, timeoutMs } = this.config;
    const secret = await this.config.clientSecret();
    const basic = Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`).toString('base64');
    const response = await send(
      this.config.fetch,
      tokenUrl,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: 'grant_type=client_credentials',
        signal: AbortSignal.timeout(timeoutMs),
      },
      'the token request',
      timeoutMs,
    );
    if (!response.ok) {
      throw await failureOf(response, 'fleet API token request failed', [secret]);
    }
    const text = await readText(response, 'the token request');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // No cause: JSON.parse quotes the text it choked on, and that text may hold a token.
      throw new FleetApiTerminalError('fleet API token response is not JSON', response.status);
    }
    const parsed = TokenResponseSchema.safeParse(body);
    if (!parsed.success) {
      // The cause is left out: the issues carry the input, and the input may carry a token.
      throw new FleetApiTerminalError(
        `fleet API token response is invalid: ${issuesOf(parsed.error)}`,
        response.status,
      );
    }
    const lifetimeMs = (parsed.data.expires_in ?? DEFAULT_TOKEN_LIFETIME_S) * 1000;
    this.cached = {
      token: parsed.data.access_token,
      refreshAt: clock.now().getTime() + lifetimeMs - TOKEN_REFRESH_MARGIN_MS,
    };
    return parsed.data.access_token;
  }
}

/** application/x-www-form-urlencoded, as RFC 6749 §2.3.1 asks for Basic client credentials. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** One HTTP exchange; failures to get any response are transient. */
async function send(
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

async function readText(response: Response, what: string): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw new FleetApiTransientError(
      `fleet API connection broke while reading ${what}: ${reasonOf(error)}`,
      response.status,
      undefined,
      { cause: error },
    );
  }
}

function unreachable(error: unknown, what: string, timeoutMs: number): FleetApiTransientError {
  const reason =
    fieldOf(error, 'name') === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : reasonOf(error);
  return new FleetApiTransientError(`fleet API unreachable for ${what}: ${reason}`, undefined, undefined, {
    cause: error,
  });
}

/** undici reports "fetch failed" and hides the socket error (ECONNREFUSED, ...) in `cause`. */
function reasonOf(error: unknown): string {
  const cause = fieldOf(error, 'cause');
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

/** Classifies a non-2xx response; the error body is quoted only through ErrorBodySchema, with secrets scrubbed. */
async function failureOf(
  response: Response,
  prefix: string,
  secrets: readonly string[],
): Promise<FleetApiTransientError | FleetApiTerminalError> {
  const { status } = response;
  const detail = scrub(await errorDetail(response), secrets);
  const message = `${prefix}: HTTP ${status}${detail ? ` ${detail}` : ''}`;
  if (status === 429 || status >= 500) {
    const retryAfterMs = retryAfterOf(response.headers.get('retry-after'));
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

function scrub(text: string, secrets: readonly string[]): string {
  return secrets.reduce(
    (result, secret) => (secret === '' ? result : result.replaceAll(secret, '[redacted]')),
    text,
  );
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterOf(header: string | null): number | undefined {
  if (header === null || header.trim() === '') {
    return undefined;
  }
  if (/^\d+$/.test(header.trim())) {
    return Number(header.trim()) * 1000;
  }
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // The body is unwanted; a failure to discard it changes nothing.
  }
}
