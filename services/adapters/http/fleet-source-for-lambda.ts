import type { Secrets } from '../../ports/secrets.js';
import type { Logger } from '../../shared/logger.js';
import type { RateBudget, SourceConfig } from '../../source-config/index.js';
import { FleetApiSource } from './fleet-api-source.js';

/**
 * The source a Lambda entry uses: the configuration from its environment, the secret from Secrets Manager, and
 * the rate budget this instance may use (its share when several instances run at once).
 */
export function fleetSourceForLambda(
  config: SourceConfig,
  secrets: Secrets,
  budget: RateBudget,
  /** Where the client's retries and long waits are logged: the entry's logger, so they carry the run's fields. */
  logger: Logger,
): FleetApiSource {
  return new FleetApiSource({
    config: { ...config, rateBudget: budget },
    secrets,
    logger,
  });
}
