import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { nonEmpty } from '../../shared/environment.js';
import { FleetApiSource } from '../http/fleet-api-source.js';
import { SecretsManagerSecrets } from './secrets-manager/secrets.js';

/** Where the fleet API is and which secret holds its OAuth client secret; the value itself never is in env. */
export const FleetApiEnvironmentSchema = z.object({
  FLEET_API_BASE_URL: z.url(),
  FLEET_API_TOKEN_URL: z.url(),
  FLEET_API_CLIENT_ID: nonEmpty,
  FLEET_API_SECRET_ID: nonEmpty,
});

export function fleetSourceFromEnvironment(
  env: z.infer<typeof FleetApiEnvironmentSchema>,
  secretsClient: SecretsManagerClient,
): FleetApiSource {
  const secrets = new SecretsManagerSecrets(secretsClient);
  return new FleetApiSource({
    baseUrl: env.FLEET_API_BASE_URL,
    tokenUrl: env.FLEET_API_TOKEN_URL,
    clientId: env.FLEET_API_CLIENT_ID,
    clientSecret: () => secrets.get(env.FLEET_API_SECRET_ID),
  });
}
