import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import * as z from 'zod';
import { DatasetSchema } from '../../events/index.js';
import { DynamoDbRunLedger } from '../adapters/aws/dynamodb-run-ledger.js';
import { EventBridgePublisher } from '../adapters/aws/eventbridge-publisher.js';
import { nonEmpty, parseEnvironment } from '../shared/environment.js';
import { jsonLogger } from '../shared/logger.js';
import { createCompletionTrackerHandler } from './handler.js';

const env = parseEnvironment(z.object({ EVENT_BUS_NAME: nonEmpty, RUN_LEDGER_TABLE: nonEmpty }));

export const handler = createCompletionTrackerHandler({
  ledger: new DynamoDbRunLedger(new DynamoDBClient({}), { tableName: env.RUN_LEDGER_TABLE }),
  publisher: new EventBridgePublisher(new EventBridgeClient({}), { busName: env.EVENT_BUS_NAME }),
  // Every dataset the API offers is part of every run.
  datasets: DatasetSchema.options,
  logger: jsonLogger('completionTracker'),
});
