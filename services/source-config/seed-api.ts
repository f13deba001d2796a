import { parseSourceConfig } from './parse-source-config.js';
import type { RateBudget, RetryConfig } from './schema.js';
import type { SourceConfig } from './source-config.js';

/** The seed's API, as the built-in simulator serves it: the shape every configuration defaults to. */
export const SEED_API_PATHS = {
  token: '/oauth/token',
  vehicles: '/v1/vehicles',
  sensors: '/v1/sensors',
} as const;

export interface SeedApiOptions {
  clientId: string;
  /** The name the secret is read by (Secrets port), never its value. */
  clientSecretName: string;
  tokenUrl?: string;
  rateBudget?: Partial<RateBudget>;
  retry?: Partial<RetryConfig>;
  requestTimeoutMs?: number;
}

/** A configuration for an API with the seed's shape at `baseUrl` (the simulator, or the legacy environment). */
export function seedApiConfig(baseUrl: string, options: SeedApiOptions): SourceConfig {
  return parseSourceConfig(
    {
      baseUrl,
      auth: {
        tokenUrl: options.tokenUrl ?? SEED_API_PATHS.token,
        clientId: options.clientId,
        clientSecretName: options.clientSecretName,
      },
      ...(options.rateBudget === undefined ? {} : { rateBudget: options.rateBudget }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      datasets: {
        vehicles: { endpoint: SEED_API_PATHS.vehicles },
        sensors: { endpoint: SEED_API_PATHS.sensors },
      },
    },
    `the seed API at ${baseUrl}`,
  );
}
