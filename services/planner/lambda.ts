import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgePublisher } from '../adapters/aws/eventbridge-publisher.js';
import {
  FleetApiEnvironmentSchema,
  fleetSourceFromEnvironment,
} from '../adapters/aws/fleet-source-from-env.js';
import { SqsTaskQueue } from '../adapters/aws/sqs-task-queue.js';
import { systemClock } from '../ports/clock.js';
import { nonEmpty, parseEnvironment, positiveInt } from '../shared/environment.js';
import { jsonLogger } from '../shared/logger.js';
import { createPlannerHandler } from './handler.js';

// The Lambda entry: AWS adapters, clients created once per execution environment.
const env = parseEnvironment(
  FleetApiEnvironmentSchema.extend({
    EVENT_BUS_NAME: nonEmpty,
    TASKS_QUEUE_URL: nonEmpty,
    PAGE_SIZE: positiveInt,
  }),
);

export const handler = createPlannerHandler({
  source: fleetSourceFromEnvironment(env, new SecretsManagerClient({})),
  queue: new SqsTaskQueue(new SQSClient({}), { queueUrl: env.TASKS_QUEUE_URL }),
  publisher: new EventBridgePublisher(new EventBridgeClient({}), { busName: env.EVENT_BUS_NAME }),
  clock: systemClock,
  pageSize: env.PAGE_SIZE,
  logger: jsonLogger('planner'),
});
