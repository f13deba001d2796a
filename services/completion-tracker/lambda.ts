import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { DatasetSchema } from '../../events/index.js';
import { DynamoDbRunLedger } from '../adapters/aws/dynamodb/run-ledger.js';
import { EventBridgePublisher } from '../adapters/aws/eventbridge/publisher.js';
import { fleetEventLogFields, lambdaTelemetry } from '../adapters/aws/lambda/telemetry.js';
import { S3ObjectStore } from '../adapters/aws/s3/object-store.js';
import { serviceEnvironment } from '../service-environment.js';
import { parseEnvironment } from '../shared/environment.js';
import { createCompletionTrackerHandler } from './handler.js';

// RESULTS_BUCKET is read only, and only under event-details/EtlDone/: where an EtlDone sent by reference is
// (decision 60).
const env = parseEnvironment(serviceEnvironment('completionTracker'));

const telemetry = lambdaTelemetry('completionTracker');

const completionTracker = createCompletionTrackerHandler({
  ledger: new DynamoDbRunLedger(new DynamoDBClient({}), { tableName: env.RUN_LEDGER_TABLE }),
  publisher: new EventBridgePublisher(new EventBridgeClient({}), { busName: env.EVENT_BUS_NAME }),
  // Every dataset the API offers is part of every run.
  datasets: DatasetSchema.options,
  eventDetails: new S3ObjectStore(new S3Client({}), { bucket: env.RESULTS_BUCKET }),
  logger: telemetry.logger,
});

export const handler = telemetry.instrument(completionTracker, { fieldsOf: fleetEventLogFields });
