import type { Dataset, DateWindow } from '../../../events/index.js';
import type {
  FetchedPage,
  FleetSource,
  PageRequest,
  PageSink,
  SourceStats,
} from '../../ports/fleet-source.js';
import type { Secrets } from '../../ports/secrets.js';
import type { Logger } from '../../shared/logger.js';
import {
  askedWindow,
  type ClientCredentialsAuth,
  type DatasetSource,
  nightlyWindowIn,
  type SnapshotMode,
  type SourceConfig,
} from '../../source-config/index.js';
import { retryDelayMs } from './backoff.js';
import { ClientCredentialsTokens } from './client-credentials.js';
import {
  type FleetApiError,
  FleetApiTerminalError,
  FleetApiTransientError,
  isTransientFleetApiError,
} from './errors.js';
import { brokenBody, discard, failureOf, send } from './http-exchange.js';
import { PageBodyParser, type PageFailure, type ParsedPage } from './page-body-parser.js';
import { pageUrl } from './page-url.js';
import { type Release, RequestBudget } from './request-budget.js';
import { type RowReader, rowReader } from './row-reader.js';
import { systemTiming, type Timing } from './timing.js';

export { FleetApiTerminalError, FleetApiTransientError } from './errors.js';

export interface FleetApiSourceOptions {
  config: SourceConfig;
  /** Reads the client secret by name: Secrets Manager in the cloud, environment variables locally. */
  secrets: Secrets;
  timing?: Timing;
  /** [0, 1), for the backoff's jitter. */
  random?: () => number;
  fetch?: typeof fetch;
  /** Retries are logged here (warn), so a flaky night can be read afterwards. */
  logger?: Logger;
}

const TOKEN_REFUSED = 'HTTP 401 (token refreshed)';

/**
 * The fleet REST API over `fetch`, as a source configuration describes it: OAuth 2.0 client credentials (cached,
 * single-flight, one refresh on 401), one GET per page streamed through the page parser into the caller's sink,
 * transient failures retried with capped exponential backoff and full jitter but never before `Retry-After`, and
 * every request (tokens included) within one rate budget shared by the whole process.
 */
export class FleetApiSource implements FleetSource {
  readonly config: SourceConfig;
  private readonly secrets: Secrets;
  private readonly timing: Timing;
  private readonly random: () => number;
  private readonly fetch: typeof fetch;
  private readonly logger: Logger | undefined;
  private readonly budget: RequestBudget;
  private readonly tokenSources = new Map<string, ClientCredentialsTokens>();
  /** Per URL, the earliest time the API allowed it to be asked again (its last `Retry-After`). */
  private readonly notBefore = new Map<string, number>();
  private readonly counts = { pageRequests: 0, retries: 0, transientFailures: {} as Record<string, number> };

  constructor(options: FleetApiSourceOptions) {
    this.config = options.config;
    this.secrets = options.secrets;
    this.timing = options.timing ?? systemTiming;
    this.random = options.random ?? Math.random;
    this.logger = options.logger;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.budget = new RequestBudget(this.config.rateBudget, this.timing);
  }

  windowFor(scheduledTime: Date): DateWindow {
    return nightlyWindowIn(scheduledTime, this.config.window.timeZone);
  }

  snapshotMode(dataset: Dataset): SnapshotMode {
    return this.config.datasets[dataset].snapshot;
  }

  maxPageSize(dataset: Dataset): number {
    return this.config.datasets[dataset].pageSize;
  }

  async countPages(request: PageRequest): Promise<number> {
    const page = await this.fetchPages(request, drain, false);
    return page.totalPages;
  }

  fetchPage<T>(request: PageRequest, sink: PageSink<T>): Promise<FetchedPage<T>> {
    return this.fetchPages(request, sink, true);
  }

  stats(): SourceStats {
    let tokenRequests = 0;
    for (const tokens of this.tokenSources.values()) tokenRequests += tokens.requests;
    const budget = this.budget.stats();
    return {
      pageRequests: this.counts.pageRequests,
      retries: this.counts.retries,
      tokenRequests,
      transientFailures: { ...this.counts.transientFailures },
      maxInFlight: budget.maxInFlight,
      budgetWaits: budget.waits,
      budgetWaitMs: budget.waitedMs,
    };
  }

  private fetchPages<T>(request: PageRequest, sink: PageSink<T>, emitRows: boolean): Promise<FetchedPage<T>> {
    const source = this.config.datasets[request.dataset];
    const what = `${request.dataset} page ${request.page}`;
    let url: URL;
    try {
      url = pageUrl(source, request);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.withRetries(what, url.toString(), () =>
      this.attempt(source, request, url, what, sink, emitRows),
    );
  }

  /** One attempt: an authorised GET, its body streamed through the parser into the sink. */
  private async attempt<T>(
    source: DatasetSource,
    request: PageRequest,
    url: URL,
    what: string,
    sink: PageSink<T>,
    emitRows: boolean,
  ): Promise<FetchedPage<T>> {
    const { response, release, token, secretHeaderValues } = await this.authorizedGet(source, url, what);
    try {
      if (!response.ok) {
        throw await failureOf(
          response,
          `fleet API failed ${what}`,
          [token, ...secretHeaderValues],
          this.timing.now(),
        );
      }
      const contentType = response.headers.get('content-type');
      if (contentType !== null && !JSON_CONTENT_TYPE.test(contentType)) {
        // A proxy's error page or a login wall answers 200 with HTML: not the API speaking. Asking again may
        // reach the API; if it never does, the retries end with this message, which names what came back.
        await discard(response);
        throw new FleetApiTransientError(
          `fleet API answered ${what} with content-type "${contentType.slice(0, 100)}", not JSON`,
          response.status,
          undefined,
          { kind: 'content-type' },
        );
      }
      // A snapshot is asked for without the date filters: its rows are kept whenever they were created.
      const window = request.fullSnapshot === true ? undefined : request.window;
      const asked = window === undefined ? undefined : askedWindow(window, source.dateFilter);
      // Planning reads page 1 for total_pages only, but an API that ignores the date filters shows on it: the night
      // fails there, once per dataset, rather than on every page it would plan (every one of them fetched again by
      // each receive of its task).
      const plansOnWindow = !emitRows && asked !== undefined && source.checks.rowsOutsideWindow === 'fail';
      const reader =
        emitRows || plansOnWindow ? rowReader(source.dataset, source.rows, window, 'fast', asked) : undefined;
      const parser = new PageBodyParser({
        shape: source.shape,
        page: request.page,
        pageSize: request.pageSize,
        invalidRows: source.rows.invalidRows,
        maxPages: source.maxPages,
        maxRows: source.maxRows,
        ...(request.expectedTotalPages === undefined
          ? {}
          : { expectedTotalPages: request.expectedTotalPages }),
        ...(reader === undefined
          ? {}
          : emitRows
            ? { checkRow: reader }
            : { outsideAskedOf: outsideAskedOf(reader) }),
        ...(reader === undefined || asked === undefined
          ? {}
          : {
              rowsOutsideAsked: {
                action: source.checks.rowsOutsideWindow,
                asked,
                filters: `${source.query.from}, ${source.query.to}`,
              },
            }),
      });
      const outcome: BodyOutcome = { failure: undefined, parsed: undefined };
      let stored: T;
      try {
        const body = this.ndjson(response, parser, outcome, what);
        stored = await sink(body);
      } catch (error) {
        // The sink (an object store) may wrap what the body threw; the body's own failure says more.
        throw outcome.failure ?? error;
      }
      if (outcome.parsed === undefined) {
        throw new FleetApiTerminalError(
          `${what}: the sink stopped reading before the page ended`,
          response.status,
        );
      }
      return {
        totalPages: outcome.parsed.totalPages,
        rows: outcome.parsed.rows,
        rejected: outcome.parsed.rejected,
        outsideWindow: outcome.parsed.outsideWindow,
        unmappedFields: emitRows ? (reader?.unmappedFields() ?? {}) : {},
        stored,
      };
    } finally {
      // The slot is held until the body has been read: that is how long the API serves the request.
      release();
    }
  }

  /** Validated rows as NDJSON bytes, as the body arrives; throws (and records why) when the body fails. */
  private async *ndjson(
    response: Response,
    parser: PageBodyParser,
    outcome: BodyOutcome,
    what: string,
  ): AsyncGenerator<Uint8Array> {
    const { status, body } = response;
    const output = new OutputBuffer();
    try {
      if (body !== null) {
        for await (const chunk of body) {
          const step = parser.push(chunk);
          if (!step.ok) {
            outcome.failure = bodyFailure(step.failure, what, status);
            throw outcome.failure;
          }
          const full = output.add(step.ndjson);
          if (full !== undefined) yield full;
        }
      }
    } catch (error) {
      outcome.failure ??= brokenBody(error, status, what, this.config.requestTimeoutMs);
      throw outcome.failure;
    }
    const end = parser.end();
    if (!end.ok) {
      outcome.failure = bodyFailure(end.failure, what, status);
      throw outcome.failure;
    }
    output.add(end.ndjson);
    const rest = output.flush();
    if (rest !== undefined) yield rest;
    outcome.parsed = end;
  }

  /** A GET with a bearer token and a budget slot; a 401 gets one fresh token and one more try. */
  private async authorizedGet(
    source: DatasetSource,
    url: URL,
    what: string,
  ): Promise<{ response: Response; release: Release; token: string; secretHeaderValues: string[] }> {
    const tokens = this.tokensFor(source.auth);
    // The token comes before the slot: a request waiting for a token must not hold a slot the token request needs.
    const { headers: extraHeaders, secretValues: secretHeaderValues } = await this.headersOf(source);
    let token = await tokens.current();
    let exchange = await this.get(url, token, what, extraHeaders);
    if (exchange.response.status === 401) {
      // The token may have been revoked or expired early on the provider's side: one fresh token, one retry. It
      // is counted as one, as the backoff's retries are: the request was sent again.
      await discard(exchange.response);
      exchange.release();
      this.counts.retries += 1;
      this.counts.transientFailures[TOKEN_REFUSED] = (this.counts.transientFailures[TOKEN_REFUSED] ?? 0) + 1;
      tokens.invalidate(token);
      token = await tokens.current();
      exchange = await this.get(url, token, what, extraHeaders);
      if (exchange.response.status === 401) {
        await discard(exchange.response);
        exchange.release();
        throw new FleetApiTerminalError(
          `fleet API refused a freshly issued access token for ${what} (HTTP 401)`,
          401,
        );
      }
    }
    return { ...exchange, token, secretHeaderValues };
  }

  /**
   * The dataset's configured headers, secrets read by name (each read is the Secrets port's, cached there), and the
   * secret values among them, which no message may quote.
   */
  private async headersOf(
    source: DatasetSource,
  ): Promise<{ headers: Record<string, string>; secretValues: string[] }> {
    const headers: Record<string, string> = {};
    const secretValues: string[] = [];
    for (const [name, value] of Object.entries(source.headers)) {
      if (typeof value === 'string') {
        headers[name] = value;
      } else {
        headers[name] = await this.secrets.get(value.secretName);
        secretValues.push(headers[name]);
      }
    }
    return { headers, secretValues };
  }

  private async get(
    url: URL,
    token: string,
    what: string,
    extraHeaders: Record<string, string>,
  ): Promise<{ response: Response; release: Release }> {
    const release = await this.budget.acquire();
    const timeoutMs = this.config.requestTimeoutMs;
    this.counts.pageRequests += 1;
    try {
      const response = await send(
        this.fetch,
        url,
        {
          method: 'GET',
          headers: { ...extraHeaders, authorization: `Bearer ${token}`, accept: 'application/json' },
          // Covers the body too: a page that stops arriving is a transient failure, not a hang.
          signal: AbortSignal.timeout(timeoutMs),
        },
        what,
        timeoutMs,
      );
      return { response, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  private tokensFor(auth: ClientCredentialsAuth): ClientCredentialsTokens {
    const key = [
      auth.tokenUrl,
      auth.clientId,
      auth.clientSecretName,
      auth.scope ?? '',
      auth.credentialsIn,
      JSON.stringify(auth.tokenParams ?? {}),
    ].join('\n');
    let tokens = this.tokenSources.get(key);
    if (tokens === undefined) {
      tokens = new ClientCredentialsTokens({
        auth,
        secret: (name) => this.secrets.get(name),
        forgetSecret: (name) => this.secrets.forget?.(name),
        budget: this.budget,
        timing: this.timing,
        timeoutMs: this.config.requestTimeoutMs,
        fetch: this.fetch,
      });
      this.tokenSources.set(key, tokens);
    }
    return tokens;
  }

  /**
   * Runs attempts until one succeeds, a failure is terminal, or the retry policy is spent. Waits are the backoff's,
   * never shorter than the `Retry-After` the API gave; that floor is kept per URL, so another caller asking for
   * the same page in this process (a redelivered task) waits for it too.
   */
  private async withRetries<T>(what: string, key: string, attempt: () => Promise<T>): Promise<T> {
    const policy = this.config.retry;
    const firstAt = this.timing.now();
    for (let failures = 0; ; ) {
      const allowedAt = this.notBefore.get(key);
      if (allowedAt !== undefined && allowedAt - this.timing.now() > policy.maxRetryAfterMs) {
        // The API asked for a longer wait than this run takes, and the task came back (the queue delivered it
        // again): asking now would ignore what the API said, so the page fails again without a request.
        throw tooLongToWait(what, allowedAt, this.timing.now(), policy.maxRetryAfterMs);
      }
      if (allowedAt !== undefined) await this.waitAsAsked(what, allowedAt);
      try {
        const result = await attempt();
        this.notBefore.delete(key);
        return result;
      } catch (error) {
        if (!isTransientFleetApiError(error)) throw error;
        failures += 1;
        this.countFailure(error);
        const now = this.timing.now();
        if (error.retryAfterMs !== undefined) {
          this.notBefore.set(key, Math.max(this.notBefore.get(key) ?? 0, now + error.retryAfterMs));
        }
        if (error.retryAfterMs !== undefined && error.retryAfterMs > policy.maxRetryAfterMs) {
          throw tooLongToWait(what, now + error.retryAfterMs, now, policy.maxRetryAfterMs, error);
        }
        const nextAt = now + retryDelayMs(failures, policy, this.random, error.retryAfterMs);
        if (failures >= policy.maxAttempts) {
          throw giveUp(error, `gave up on ${what} after ${failures} attempts`);
        }
        if (nextAt - firstAt > policy.maxElapsedMs) {
          throw giveUp(
            error,
            `gave up on ${what}: the next attempt would start after the ${policy.maxElapsedMs} ms retry budget`,
          );
        }
        this.counts.retries += 1;
        this.logger?.warn('retrying a fleet API request', {
          what,
          failures,
          waitMs: nextAt - now,
          reason: error.message,
        });
        await this.timing.sleepUntil(nextAt);
      }
    }
  }

  /**
   * Waits for the floor an earlier `Retry-After` set on this request, saying so when it is long enough to notice.
   * A floor further away than maxRetryAfterMs fails the page instead (withRetries), so this never sleeps longer
   * than the configuration allows.
   */
  private async waitAsAsked(what: string, allowedAt: number): Promise<void> {
    const waitMs = allowedAt - this.timing.now();
    if (waitMs <= 0) return;
    if (waitMs >= NOTICEABLE_WAIT_MS) {
      this.logger?.warn('waiting as the fleet API asked (Retry-After)', {
        what,
        waitMs,
        until: new Date(allowedAt).toISOString(),
      });
    }
    await this.timing.sleepUntil(allowedAt);
  }

  private countFailure(error: FleetApiTransientError): void {
    const kind = error.kind === 'http' ? `HTTP ${error.status}` : error.kind;
    this.counts.transientFailures[kind] = (this.counts.transientFailures[kind] ?? 0) + 1;
  }
}

/**
 * NDJSON handed to the sink in pieces of about half a mebibyte rather than one per network chunk (~64 KiB): an
 * object store's writes are then ten times fewer (each a round trip through the file system's thread pool, or a
 * part of an S3 upload), for half a mebibyte of memory per page in flight.
 */
const OUTPUT_PIECE_BYTES = 512 * 1024;

class OutputBuffer {
  private pieces: Buffer[] = [];
  private size = 0;

  /** Adds bytes; returns a full piece when there is one. */
  add(bytes: Buffer): Buffer | undefined {
    if (bytes.length === 0) return undefined;
    this.pieces.push(bytes);
    this.size += bytes.length;
    return this.size >= OUTPUT_PIECE_BYTES ? this.flush() : undefined;
  }

  flush(): Buffer | undefined {
    if (this.size === 0) return undefined;
    const piece = this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces, this.size);
    this.pieces = [];
    this.size = 0;
    return piece;
  }
}

interface BodyOutcome {
  failure: FleetApiError | undefined;
  parsed: ParsedPage | undefined;
}

/** `application/json`, `application/problem+json`, `application/vnd.fleet+json; charset=utf-8`, ... */
const JSON_CONTENT_TYPE = /^\s*application\/([\w.+-]+\+)?json\s*(;|$)/i;

/**
 * A body cut short is a connection that broke, and markup under a JSON content type is a proxy's page or a login
 * wall, not the API: both are worth asking again. Anything else about a body is the API's, and is not.
 */
function bodyFailure(failure: PageFailure, what: string, status: number): FleetApiError {
  if (failure.kind === 'markup') {
    return new FleetApiTransientError(
      `fleet API answered ${what} with ${failure.message}`,
      status,
      undefined,
      { kind: 'content-type' },
    );
  }
  if (failure.kind === 'truncated') {
    return new FleetApiTransientError(
      `fleet API sent ${what} cut short: ${failure.message}`,
      status,
      undefined,
      {
        kind: 'truncated',
      },
    );
  }
  return new FleetApiTerminalError(`fleet API sent an invalid ${what}: ${failure.message}`, status);
}

/** A wait this long is logged before it starts: a run that sleeps must say why. */
const NOTICEABLE_WAIT_MS = 5_000;

/**
 * An API asking not to be called again for longer than the configuration allows: not worth waiting for within
 * this run (a day's `Retry-After` would otherwise hold the run asleep without a word), so the page fails now,
 * naming the wait.
 */
function tooLongToWait(
  what: string,
  allowedAt: number,
  now: number,
  maxRetryAfterMs: number,
  cause?: FleetApiTransientError,
): FleetApiTerminalError {
  const seconds = Math.ceil((allowedAt - now) / 1000);
  // Said as a wait when the API has just said it, as a time when an earlier answer did (the task came back).
  const wait =
    cause === undefined
      ? `until ${new Date(allowedAt).toISOString()} (${seconds} s from now)`
      : `${seconds} s`;
  return new FleetApiTerminalError(
    `fleet API asked to wait ${wait} before asking for ${what} again (Retry-After), longer than the ` +
      `${Math.ceil(maxRetryAfterMs / 1000)} s fleet-etl waits (retry.maxRetryAfterMs in the source configuration)` +
      (cause === undefined ? '; not asked again' : `; last: ${cause.message}`),
    cause?.status,
    cause === undefined ? undefined : { cause },
  );
}

function giveUp(last: FleetApiTransientError, summary: string): FleetApiTransientError {
  return new FleetApiTransientError(`${summary}; last: ${last.message}`, last.status, last.retryAfterMs, {
    cause: last,
    kind: last.kind,
  });
}

/** A planning page's check of one row: its `created_at` when it is outside the window asked for (rows are not checked). */
function outsideAskedOf(reader: RowReader): (raw: unknown) => string | undefined {
  return (raw) => {
    const verdict = reader(raw);
    return !verdict.ok && verdict.outsideWindow === true ? verdict.outsideAsked : undefined;
  };
}

/** Planning reads a page only for total_pages: its rows are parsed (the body must be whole) and dropped. */
async function drain(ndjson: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of ndjson) {
    // Nothing is kept.
  }
}
