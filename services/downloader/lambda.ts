import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EventBridgePublisher } from '../adapters/aws/eventbridge-publisher.js';
import {
  FleetApiEnvironmentSchema,
  fleetSourceFromEnvironment,
} from '../adapters/aws/fleet-source-from-env.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { nonEmpty, parseEnvironment } from '../shared/environment.js';
import { jsonLogger } from '../shared/logger.js';
import { createDownloaderHandler } from './handler.js';

const env = parseEnvironment(
  FleetApiEnvironmentSchema.extend({ EVENT_BUS_NAME: nonEmpty, RAW_BUCKET: nonEmpty }),
);

export const handler = createDownloaderHandler({
  source: fleetSourceFromEnvironment(env, new SecretsManagerClient({})),
  rawStore: new S3ObjectStore(new S3Client({}), { bucket: env.RAW_BUCKET }),
  publisher: new EventBridgePublisher(new EventBridgeClient({}), { busName: env.EVENT_BUS_NAME }),
  logger: jsonLogger('downloader'),
});
