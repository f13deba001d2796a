import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Clock, systemClock } from '../../../ports/clock.js';
import type { Secrets } from '../../../ports/secrets.js';
import { TerminalError } from '../../../shared/errors.js';
import { classifyAwsError } from '../aws-error.js';

export interface SecretsManagerSecretsOptions {
  /**
   * How long a value is reused. Caching keeps a warm Lambda from calling Secrets Manager per invocation
   * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets.html); a rotated secret is
   * picked up within this time.
   */
  ttlMs?: number;
  clock?: Clock;
}

const DEFAULT_TTL_MS = 5 * 60_000;

/**
 * The Secrets port over GetSecretValue, with an in-memory cache and one request in flight per name however many
 * callers ask at once. Errors name the secret, never its value.
 */
export class SecretsManagerSecrets implements Secrets {
  readonly #client: SecretsManagerClient;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #cache = new Map<string, { value: string; expiresAt: number }>();
  readonly #inFlight = new Map<string, Promise<string>>();

  constructor(client: SecretsManagerClient, options: SecretsManagerSecretsOptions = {}) {
    this.#client = client;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#clock = options.clock ?? systemClock;
  }

  get(name: string): Promise<string> {
    const cached = this.#cache.get(name);
    if (cached !== undefined && cached.expiresAt > this.#clock.now().getTime()) {
      return Promise.resolve(cached.value);
    }
    const pending = this.#inFlight.get(name);
    if (pending !== undefined) return pending;
    const fetching = this.#fetch(name).finally(() => this.#inFlight.delete(name));
    this.#inFlight.set(name, fetching);
    return fetching;
  }

  /** The provider refused the cached value (rotated since): the next `get` asks Secrets Manager again. */
  forget(name: string): void {
    this.#cache.delete(name);
  }

  async #fetch(name: string): Promise<string> {
    let value: unknown;
    try {
      value = (await this.#client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
    } catch (error) {
      throw classifyAwsError(error, `reading secret "${name}"`);
    }
    if (typeof value !== 'string' || value === '') {
      throw new TerminalError(`secret "${name}" has no SecretString (binary secrets are not supported)`);
    }
    this.#cache.set(name, { value, expiresAt: this.#clock.now().getTime() + this.#ttlMs });
    return value;
  }
}
