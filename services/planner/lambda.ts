import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgePublisher } from '../adapters/aws/eventbridge/publisher.js';
import { lambdaTelemetry } from '../adapters/aws/lambda/telemetry.js';
import { SecretsManagerSecrets } from '../adapters/aws/secrets-manager/secrets.js';
import { SqsTaskQueue } from '../adapters/aws/sqs/task-queue.js';
import { fleetSourceForLambda } from '../adapters/http/fleet-source-for-lambda.js';
import { systemClock } from '../ports/clock.js';
import { serviceEnvironment } from '../service-environment.js';
import { parseEnvironment } from '../shared/environment.js';
import { sourceConfigFromEnvironment } from '../source-config/index.js';
import { createPlannerHandler, plannerLogFields } from './handler.js';

// The Lambda entry: AWS adapters, clients created once per execution environment.
const env = parseEnvironment(serviceEnvironment('planner'));
const config = sourceConfigFromEnvironment(env);
const telemetry = lambdaTelemetry('planner');
// The planner makes one page request per dataset and night: the whole budget is more than it needs.
const source = fleetSourceForLambda(
  config,
  new SecretsManagerSecrets(new SecretsManagerClient({})),
  config.rateBudget,
  telemetry.logger,
);

const planner = createPlannerHandler({
  source,
  queue: new SqsTaskQueue(new SQSClient({}), { queueUrl: env.TASKS_QUEUE_URL }),
  publisher: new EventBridgePublisher(new EventBridgeClient({}), { busName: env.EVENT_BUS_NAME }),
  clock: systemClock,
  pageSize: env.PAGE_SIZE,
  logger: telemetry.logger,
});

export const handler = telemetry.instrument(planner, {
  source,
  fieldsOf: (event) => plannerLogFields(event, source),
});
