import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgePublisher } from '../adapters/aws/eventbridge-publisher.js';
import { SecretsManagerSecrets } from '../adapters/aws/secrets-manager-secrets.js';
import { SqsTaskQueue } from '../adapters/aws/sqs-task-queue.js';
import { fleetSourceForLambda } from '../adapters/http/fleet-source-for-lambda.js';
import { systemClock } from '../ports/clock.js';
import { nonEmpty, parseEnvironment, positiveInt } from '../shared/environment.js';
import { jsonLogger } from '../shared/logger.js';
import { SourceEnvironmentSchema, sourceConfigFromEnvironment } from '../source-config/index.js';
import { createPlannerHandler } from './handler.js';

// The Lambda entry: AWS adapters, clients created once per execution environment.
const env = parseEnvironment(
  SourceEnvironmentSchema.extend({
    EVENT_BUS_NAME: nonEmpty,
    TASKS_QUEUE_URL: nonEmpty,
    PAGE_SIZE: positiveInt,
  }),
);
const config = sourceConfigFromEnvironment(env);

export const handler = createPlannerHandler({
  // The planner makes one page request per dataset and night: the whole budget is more than it needs.
  source: fleetSourceForLambda(
    config,
    new SecretsManagerSecrets(new SecretsManagerClient({})),
    config.rateBudget,
  ),
  queue: new SqsTaskQueue(new SQSClient({}), { queueUrl: env.TASKS_QUEUE_URL }),
  publisher: new EventBridgePublisher(new EventBridgeClient({}), { busName: env.EVENT_BUS_NAME }),
  clock: systemClock,
  pageSize: env.PAGE_SIZE,
  logger: jsonLogger('planner'),
});
