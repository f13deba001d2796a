/** The AWS adapters of the ports; each takes an SDK client the Lambda entry creates once per module. */
export {
  AthenaQueryEngine,
  type AthenaQueryEngineOptions,
  clientRequestToken,
} from './athena/query-engine.js';
export { DynamoDbRunLedger, type DynamoDbRunLedgerOptions } from './dynamodb/run-ledger.js';
export { EventBridgePublisher, type EventBridgePublisherOptions } from './eventbridge/publisher.js';
export { S3ObjectStore, type S3ObjectStoreOptions } from './s3/object-store.js';
export { SecretsManagerSecrets, type SecretsManagerSecretsOptions } from './secrets-manager/secrets.js';
export { SqsTaskQueue, type SqsTaskQueueOptions } from './sqs/task-queue.js';
