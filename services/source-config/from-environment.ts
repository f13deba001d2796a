import * as z from 'zod';
import { ConfigurationError } from '../shared/environment.js';
import { parseJsonText, parseSourceConfig } from './parse-source-config.js';
import { seedApiConfig } from './seed-api.js';
import type { SourceConfig } from './source-config.js';

/**
 * A Lambda's source: the configuration file's JSON in FLEET_SOURCE_CONFIG, or, for an API of the seed's shape,
 * its URLs and client in FLEET_API_*. Either way the secret is named (a Secrets Manager id), never given.
 */
export const SourceEnvironmentSchema = z.object({
  FLEET_SOURCE_CONFIG: z.string().min(1).optional(),
  FLEET_API_BASE_URL: z.url().optional(),
  FLEET_API_TOKEN_URL: z.url().optional(),
  FLEET_API_CLIENT_ID: z.string().min(1).optional(),
  FLEET_API_SECRET_ID: z.string().min(1).optional(),
});
export type SourceEnvironment = z.infer<typeof SourceEnvironmentSchema>;

export function sourceConfigFromEnvironment(env: SourceEnvironment): SourceConfig {
  if (env.FLEET_SOURCE_CONFIG !== undefined) {
    return parseSourceConfig(
      parseJsonText(env.FLEET_SOURCE_CONFIG, 'FLEET_SOURCE_CONFIG'),
      'FLEET_SOURCE_CONFIG',
    );
  }
  const {
    FLEET_API_BASE_URL: baseUrl,
    FLEET_API_TOKEN_URL: tokenUrl,
    FLEET_API_CLIENT_ID: clientId,
    FLEET_API_SECRET_ID: clientSecretName,
  } = env;
  if (
    baseUrl === undefined ||
    tokenUrl === undefined ||
    clientId === undefined ||
    clientSecretName === undefined
  ) {
    const missing = Object.entries({
      FLEET_API_BASE_URL: baseUrl,
      FLEET_API_TOKEN_URL: tokenUrl,
      FLEET_API_CLIENT_ID: clientId,
      FLEET_API_SECRET_ID: clientSecretName,
    })
      .filter(([, value]) => value === undefined)
      .map(([name]) => name);
    throw new ConfigurationError(
      `invalid environment: ${missing.join(', ')} required unless FLEET_SOURCE_CONFIG holds a source configuration`,
    );
  }
  return seedApiConfig(baseUrl, { tokenUrl, clientId, clientSecretName });
}
