import * as z from 'zod';
import type { ClientCredentialsAuth } from '../../source-config/index.js';
import { FleetApiTerminalError, isFleetApiError } from './errors.js';
import { failureOf, issuesOf, readText, send, TOKEN_BODY_LIMIT_BYTES } from './http-exchange.js';
import type { RequestBudget } from './request-budget.js';
import type { Timing } from './timing.js';

/** expires_in is only RECOMMENDED (RFC 6749 §5.1); without it a token is kept this long. */
const DEFAULT_TOKEN_LIFETIME_S = 300;
/**
 * A token is replaced this long before it expires, so it never expires on its way to the API: a minute, or a tenth
 * of its lifetime for short-lived tokens (a 5 s token is replaced after 4.5 s, not on every request).
 */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(60_000, lifetimeMs / 10);
}

const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'token_type must be Bearer'),
  expires_in: z.number().positive().optional(),
});

export interface ClientCredentialsOptions {
  auth: ClientCredentialsAuth;
  /** Reads the client secret by name (Secrets port) when a token is requested; it is never kept. */
  secret: (name: string) => Promise<string>;
  /** Drops the secret store's cached value of `name` (Secrets.forget), after the token endpoint refused it. */
  forgetSecret?: (name: string) => void;
  budget: RequestBudget;
  timing: Timing;
  timeoutMs: number;
  fetch: typeof fetch;
}

/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4). The token is cached until shortly before it expires, and
 * concurrent callers share one token request (single flight) instead of each asking for their own.
 */
export class ClientCredentialsTokens {
  private cached: { token: string; refreshAt: number } | undefined;
  private inFlight: Promise<string> | undefined;
  private requested = 0;

  constructor(private readonly options: ClientCredentialsOptions) {}

  /** Token requests sent so far. */
  get requests(): number {
    return this.requested;
  }

  current(): Promise<string> {
    if (this.cached && this.options.timing.now() < this.cached.refreshAt) {
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

  /**
   * A token request; when the token endpoint refuses the client (401) with a secret a cache may have kept, the
   * cached secret is dropped and, if the store now holds another one (rotated), the request is made once more.
   */
  private async request(): Promise<string> {
    const { auth } = this.options;
    const secret = await this.options.secret(auth.clientSecretName);
    try {
      return await this.requestWith(secret);
    } catch (error) {
      if (!isRefusedClient(error) || this.options.forgetSecret === undefined) throw error;
      this.options.forgetSecret(auth.clientSecretName);
      const current = await this.options.secret(auth.clientSecretName);
      if (current === secret) throw error;
      return this.requestWith(current);
    }
  }

  private async requestWith(secret: string): Promise<string> {
    const { auth, timing, timeoutMs } = this.options;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scope !== undefined) form.set('scope', auth.scope);
    for (const [name, value] of Object.entries(auth.tokenParams ?? {})) form.set(name, value);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    // What the request carries that must not come back in a message: the secret, and the Basic credentials.
    const secrets = [secret];
    if (auth.credentialsIn === 'basic-header') {
      const credentials = Buffer.from(`${formEncode(auth.clientId)}:${formEncode(secret)}`).toString(
        'base64',
      );
      headers.authorization = `Basic ${credentials}`;
      secrets.push(credentials);
    } else {
      form.set('client_id', auth.clientId);
      form.set('client_secret', secret);
    }
    const release = await this.options.budget.acquire();
    let text: string;
    let status: number;
    try {
      this.requested += 1;
      const response = await send(
        this.options.fetch,
        auth.tokenUrl,
        { method: 'POST', headers, body: form.toString(), signal: AbortSignal.timeout(timeoutMs) },
        'the token request',
        timeoutMs,
      );
      status = response.status;
      if (!response.ok) {
        throw await failureOf(response, 'fleet API token request failed', secrets, timing.now());
      }
      text = await readText(response, 'the token request', timeoutMs, TOKEN_BODY_LIMIT_BYTES);
    } finally {
      release();
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // No cause: JSON.parse quotes the text it choked on, and that text may hold a token.
      throw new FleetApiTerminalError('fleet API token response is not JSON', status);
    }
    const parsed = TokenResponseSchema.safeParse(body);
    if (!parsed.success) {
      // The cause is left out: the issues carry the input, and the input may carry a token.
      throw new FleetApiTerminalError(
        `fleet API token response is invalid: ${issuesOf(parsed.error)}`,
        status,
      );
    }
    const lifetimeMs = (parsed.data.expires_in ?? DEFAULT_TOKEN_LIFETIME_S) * 1000;
    this.cached = {
      token: parsed.data.access_token,
      refreshAt: timing.now() + lifetimeMs - refreshMarginMs(lifetimeMs),
    };
    return parsed.data.access_token;
  }
}

function isRefusedClient(error: unknown): boolean {
  return isFleetApiError(error) && error.status === 401;
}

/** application/x-www-form-urlencoded, as RFC 6749 §2.3.1 asks for Basic client credentials. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}
