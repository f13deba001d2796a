import { setTimeout as wait } from 'node:timers/promises';
import * as z from 'zod';
import { type Clock, systemClock } from '../../ports/clock.js';
import { readBodyAtMost } from '../../shared/bounded-body.js';
import { describeError, TerminalError, TransientError } from '../../shared/errors.js';

/**
 * GET requests to the GitHub REST API over `fetch`, with what Octokit's retry and throttling plugins give:
 * retries of 5xx and network failures with jittered backoff, rate-limit answers (403 or 429) waited out when
 * the wait is short and turned into a TransientError when it is not, and terminal errors for 401, 404 and
 * other refusals. Tokens are sent as `Authorization: Bearer` and never appear in an error message.
 * https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#handle-rate-limit-errors-appropriately
 */

export interface GitHubApiOptions {
  /** `https://api.github.com`, or a GitHub Enterprise Server's `https://HOST/api/v3`. */
  baseUrl?: string;
  /** A fine-grained token with read access to the repository's contents; none for a public repository. */
  token?: () => Promise<string | undefined>;
  fetch?: typeof fetch;
  /** Injected so tests need not wait. */
  sleep?: (ms: number) => Promise<void>;
  clock?: Clock;
  /** A number in [0, 1), for the jitter of retries. */
  random?: () => number;
  /** Per request, body included. */
  requestTimeoutMs?: number;
  /** Attempts per request, the first included, for 5xx, network failures and short rate-limit waits. */
  maxAttempts?: number;
  /**
   * The longest rate-limit wait spent inside one call. A longer one (the hourly primary limit) ends the call
   * with a TransientError instead, so the Lambda is not billed for sleeping and the bus retries it later.
   */
  maxRateLimitWaitMs?: number;
}

/** The request could succeed later: 5xx, a network failure, a timeout, a rate limit. */
export class GitHubTransientError extends TransientError {
  override readonly name = 'GitHubTransientError';

  constructor(
    message: string,
    readonly status: number | undefined,
    /** How long GitHub asked us to wait, when it said. */
    readonly retryAfterMs: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Asking again cannot help: a rejected token, a repository or path that is not there, no access. */
export class GitHubTerminalError extends TerminalError {
  override readonly name = 'GitHubTerminalError';

  constructor(
    message: string,
    readonly status: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** GitHub's error body; only its message is shown, cut short. */
const ErrorBodySchema = z.object({ message: z.string() });

export interface GitHubResponse {
  status: number;
  headers: Headers;
  /** The body as sent, for checksums. */
  bytes: Uint8Array;
  /** The body decoded as UTF-8 (a byte order mark dropped). */
  body: string;
}

const API_VERSION = '2022-11-28';
/**
 * The largest answer read: a folder listing of GitHub's 1,000 entries is about 1 MiB, and an SQL file above 256 KB
 * could not run on Athena. A larger body (or a small compressed one that inflates) is refused, not held whole.
 */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** An error answer's body is read for GitHub's message, which is short. */
const MAX_ERROR_BYTES = 16 * 1024;
const DEFAULT_BASE_URL = 'https://api.github.com';

export class GitHubApi {
  readonly baseUrl: string;
  readonly #options: Required<Omit<GitHubApiOptions, 'token' | 'baseUrl'>>;
  readonly #token: () => Promise<string | undefined>;

  constructor(options: GitHubApiOptions = {}) {
    const base = z.url({ protocol: /^https?$/ }).safeParse(options.baseUrl ?? DEFAULT_BASE_URL);
    if (!base.success) {
      throw new GitHubTerminalError(
        `GitHub API base URL "${options.baseUrl}" is not an http(s) URL`,
        undefined,
      );
    }
    this.baseUrl = base.data.replace(/\/+$/, '');
    this.#token = options.token ?? (async () => undefined);
    this.#options = {
      fetch: options.fetch ?? globalThis.fetch,
      sleep:
        options.sleep ??
        (async (ms) => {
          await wait(ms);
        }),
      clock: options.clock ?? systemClock,
      random: options.random ?? Math.random,
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      maxAttempts: options.maxAttempts ?? 4,
      maxRateLimitWaitMs: options.maxRateLimitWaitMs ?? 60_000,
    };
  }

  /**
   * GETs an API URL (absolute, or a path under the base URL) and returns the 2xx answer; `what` names the
   * resource in errors, e.g. `folder queries of acme/fleet-sql@main`.
   */
  async get(pathOrUrl: string, accept: string, what: string): Promise<GitHubResponse> {
    const url = pathOrUrl.startsWith('/') ? `${this.baseUrl}${pathOrUrl}` : pathOrUrl;
    this.#assertSameOrigin(url, what);
    for (let attempt = 1; ; attempt += 1) {
      const failure = await this.#attempt(url, accept, what);
      if (!(failure instanceof GitHubTransientError)) return failure;
      const delay = this.#retryDelay(failure, attempt);
      if (attempt >= this.#options.maxAttempts || delay === undefined) throw failure;
      await this.#options.sleep(delay);
    }
  }

  /** One request; a transient failure is returned (to be retried), a terminal one thrown. */
  async #attempt(url: string, accept: string, what: string): Promise<GitHubResponse | GitHubTransientError> {
    const token = await this.#token();
    const headers: Record<string, string> = {
      Accept: accept,
      'X-GitHub-Api-Version': API_VERSION,
      // GitHub refuses requests without a User-Agent.
      'User-Agent': 'fleet-etl-query-runner',
    };
    if (token !== undefined && token !== '') headers.Authorization = `Bearer ${token}`;
    let response: Response;
    let read: Uint8Array | undefined;
    try {
      response = await this.#options.fetch(url, {
        headers,
        signal: AbortSignal.timeout(this.#options.requestTimeoutMs),
      });
      // An error answer is read for its message only, and a long one is not worth holding: it is classified by its
      // status (a 5xx or a rate limit with a huge or inflating body is still retried), its message left out.
      read = await readBodyAtMost(response, response.ok ? MAX_ANSWER_BYTES : MAX_ERROR_BYTES);
    } catch (error) {
      // fetch's errors may come from another realm (jest): read them structurally, never with instanceof.
      return new GitHubTransientError(
        `GitHub: ${what}: request failed: ${describeError(error)}`,
        undefined,
        undefined,
        {
          cause: error,
        },
      );
    }
    if (read === undefined && response.ok) {
      throw new GitHubTerminalError(
        `GitHub: ${what}: the answer is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB, more than a folder ` +
          'listing or an SQL file Athena could run (its query strings end at 256 KB)',
        response.status,
      );
    }
    const bytes = read ?? new Uint8Array(0);
    const body = new TextDecoder('utf-8').decode(bytes);
    if (response.ok) return { status: response.status, headers: response.headers, bytes, body };
    return this.#failure(response.status, response.headers, body, what);
  }

  #failure(status: number, headers: Headers, body: string, what: string): GitHubTransientError {
    const detail = `HTTP ${status}${githubMessage(body)}`;
    const rateLimitWait = this.#rateLimitWaitMs(status, headers, body);
    if (rateLimitWait !== undefined) {
      const until = new Date(this.#options.clock.now().getTime() + rateLimitWait).toISOString();
      return new GitHubTransientError(
        `GitHub: ${what}: rate limited (${detail}); retry after ${until}`,
        status,
        rateLimitWait,
      );
    }
    if (status >= 500) return new GitHubTransientError(`GitHub: ${what}: ${detail}`, status, undefined);
    const hint = TERMINAL_HINTS[status] ?? 'GitHub refused the request';
    throw new GitHubTerminalError(`GitHub: ${what}: ${detail}: ${hint}`, status);
  }

  /**
   * 403 and 429 are rate limits when GitHub says so: `retry-after` (secondary limits), or no requests left
   * until `x-ratelimit-reset` (primary limit, epoch seconds), or a secondary-limit message without either,
   * which GitHub asks to wait at least a minute after. Any other 403 is a refusal.
   */
  #rateLimitWaitMs(status: number, headers: Headers, body: string): number | undefined {
    if (status !== 403 && status !== 429) return undefined;
    const retryAfter = Number(headers.get('retry-after'));
    if (headers.has('retry-after') && Number.isFinite(retryAfter) && retryAfter >= 0)
      return retryAfter * 1000;
    const reset = Number(headers.get('x-ratelimit-reset'));
    if (headers.get('x-ratelimit-remaining') === '0' && Number.isFinite(reset)) {
      return Math.max(0, reset * 1000 - this.#options.clock.now().getTime()) + 1000;
    }
    if (status === 429 || /rate limit/i.test(body)) return 60_000;
    return undefined;
  }

  /** How long to wait before the next attempt, or undefined when waiting is not worth it inside this call. */
  #retryDelay(failure: GitHubTransientError, attempt: number): number | undefined {
    if (failure.retryAfterMs !== undefined) {
      return failure.retryAfterMs <= this.#options.maxRateLimitWaitMs ? failure.retryAfterMs : undefined;
    }
    // Full jitter over a doubling ceiling: 500 ms, 1 s, 2 s, ...
    return Math.floor(this.#options.random() * 500 * 2 ** (attempt - 1));
  }

  /** Link headers and listings must not send the token to another host. */
  #assertSameOrigin(url: string, what: string): void {
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      throw new GitHubTerminalError(`GitHub: ${what}: not a URL: ${url}`, undefined);
    }
    if (origin !== new URL(this.baseUrl).origin) {
      throw new GitHubTerminalError(
        `GitHub: ${what}: refusing to follow ${url} outside ${this.baseUrl} with the token`,
        undefined,
      );
    }
  }
}

const TERMINAL_HINTS: Readonly<Record<number, string>> = {
  401: 'the token was rejected (expired, revoked or mistyped); update the secret',
  403: 'the token may not read this repository (fine-grained tokens need Contents: read)',
  404: 'no such repository, branch or path, or the token cannot see a private repository',
  // The commits API answers an unknown branch or tag so.
  422: 'no such branch or tag in the repository',
};

function githubMessage(body: string): string {
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(body));
    return parsed.success ? `: ${parsed.data.message.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}

/** The `rel="next"` URL of a Link header (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api). */
export function nextPageUrl(link: string | null): string | undefined {
  if (link === null) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
    if (match?.[2]?.split(/\s+/).includes('next')) return match[1];
  }
  return undefined;
}
