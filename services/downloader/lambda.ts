import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EventBridgePublisher } from '../adapters/aws/eventbridge/publisher.js';
import { lambdaTelemetry } from '../adapters/aws/lambda/telemetry.js';
import { S3ObjectStore } from '../adapters/aws/s3/object-store.js';
import { SecretsManagerSecrets } from '../adapters/aws/secrets-manager/secrets.js';
import { fleetSourceForLambda } from '../adapters/http/fleet-source-for-lambda.js';
import { serviceEnvironment } from '../service-environment.js';
import { parseEnvironment } from '../shared/environment.js';
import { instanceBudget, sourceConfigFromEnvironment } from '../source-config/index.js';
import { topology } from '../topology.js';
import { createDownloaderHandler } from './handler.js';
import { quarantinedRowsMetric } from './lambda-quarantined-rows-metric.js';

// DOWNLOADER_MAX_CONCURRENCY is the event source mapping's MaximumConcurrency as deployed: the budget is shared
// among that many instances.
const env = parseEnvironment(serviceEnvironment('downloader'));
const config = sourceConfigFromEnvironment(env);
const instances = env.DOWNLOADER_MAX_CONCURRENCY ?? topology.services.downloader.trigger.maxConcurrency;
const telemetry = lambdaTelemetry('downloader');
const source = fleetSourceForLambda(
  config,
  new SecretsManagerSecrets(new SecretsManagerClient({})),
  instanceBudget(config.rateBudget, instances),
  telemetry.logger,
);

const downloader = createDownloaderHandler({
  source,
  rawStore: new S3ObjectStore(new S3Client({}), { bucket: env.RAW_BUCKET }),
  publisher: new EventBridgePublisher(new EventBridgeClient({}), { busName: env.EVENT_BUS_NAME }),
  logger: telemetry.logger,
  maxReceiveCount: env.MAX_RECEIVE_COUNT ?? topology.queues.tasks.maxReceiveCount,
}).use(quarantinedRowsMetric(telemetry.metrics));

export const handler = telemetry.instrument(downloader, { source });
