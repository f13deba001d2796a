import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDbRunLedger } from '../adapters/aws/dynamodb/run-ledger.js';
import { fleetEventLogFields, lambdaTelemetry } from '../adapters/aws/lambda/telemetry.js';
import { S3ObjectStore } from '../adapters/aws/s3/object-store.js';
import { serviceEnvironment } from '../service-environment.js';
import { parseEnvironment } from '../shared/environment.js';
import { createReportHandler } from './handler.js';

// The ledger is read only (the topology's runProgress): where a failed night stopped.
const env = parseEnvironment(serviceEnvironment('report'));

const telemetry = lambdaTelemetry('report');

const report = createReportHandler({
  resultsStore: new S3ObjectStore(new S3Client({}), { bucket: env.RESULTS_BUCKET }),
  ledger: new DynamoDbRunLedger(new DynamoDBClient({}), { tableName: env.RUN_LEDGER_TABLE }),
  logger: telemetry.logger,
});

export const handler = telemetry.instrument(report, { fieldsOf: fleetEventLogFields });
