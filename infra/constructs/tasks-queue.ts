import { Duration } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueTrigger } from '../../services/topology.js';
import { InvalidDeploymentError } from '../errors.js';
import { MAX_QUEUE_RETENTION, secureQueue } from './secure-queue.js';

export interface TasksQueueProps {
  key: IKey;
  /** topology.queues.tasks */
  settings: { visibilityTimeoutSeconds: number; maxReceiveCount: number; deadLetterRetentionDays: number };
  /** The consumer's timeout: the visibility timeout must be at least six times longer. */
  consumerTimeout: Duration;
}

/** A task waits this long at most; a night's tasks are consumed within hours. SQS's default. */
const TASK_RETENTION = Duration.days(4);

/**
 * The download tasks, like the seed's serverless "queue" construct: a queue and its dead-letter queue, both
 * encrypted and TLS-only, a task moving to the dead-letter queue after `maxReceiveCount` receives.
 */
export class TasksQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  /** Receives before a task moves to the dead-letter queue. */
  readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: TasksQueueProps) {
    super(scope, id);
    const { settings } = props;
    this.maxReceiveCount = settings.maxReceiveCount;
    const visibilityTimeout = Duration.seconds(settings.visibilityTimeoutSeconds);
    // Lambda's guidance for SQS event sources: at least six times the function's timeout, so a batch that is
    // still being retried by a throttled function is not handed out again
    // (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
    if (visibilityTimeout.toSeconds() < 6 * props.consumerTimeout.toSeconds()) {
      throw new InvalidDeploymentError(
        `tasks queue: visibility timeout ${visibilityTimeout.toSeconds()} s is under 6 x the consumer's ${props.consumerTimeout.toSeconds()} s`,
      );
    }
    const deadLetterRetention = Duration.days(settings.deadLetterRetentionDays);
    // A standard queue's message keeps its first enqueue time in the dead-letter queue, so a dead-letter queue
    // retaining no longer than the source would drop messages as they arrive
    // (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
    if (
      deadLetterRetention.toSeconds() <= TASK_RETENTION.toSeconds() ||
      deadLetterRetention.toSeconds() > MAX_QUEUE_RETENTION.toSeconds()
    ) {
      throw new InvalidDeploymentError(
        `tasks queue: dead-letter retention must be over ${TASK_RETENTION.toDays()} and at most 14 days`,
      );
    }
    this.deadLetterQueue = secureQueue(this, 'DeadLetterQueue', {
      key: props.key,
      retention: deadLetterRetention,
    });
    this.queue = secureQueue(this, 'Queue', {
      key: props.key,
      retention: TASK_RETENTION,
      visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
    });
  }

  /**
   * The consumer takes batches and reports the records that failed, so only they come back
   * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html); maximum concurrency caps
   * how many batches run at once, which is what keeps the fleet API within its rate budget
   * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html).
   */
  subscribe(consumer: IFunction, trigger: QueueTrigger): void {
    // Lambda accepts 2 to 1,000 (https://docs.aws.amazon.com/lambda/latest/api/API_ScalingConfig.html); the
    // batch size of a standard queue without a batching window is at most 10.
    if (trigger.maxConcurrency < 2 || trigger.maxConcurrency > 1000) {
      throw new InvalidDeploymentError(
        `tasks queue: maxConcurrency ${trigger.maxConcurrency} is outside 2..1000`,
      );
    }
    if (trigger.batchSize < 1 || trigger.batchSize > 10) {
      throw new InvalidDeploymentError(`tasks queue: batchSize ${trigger.batchSize} is outside 1..10`);
    }
    // SqsEventSource grants the consumer grantConsumeMessages: ReceiveMessage, DeleteMessage, GetQueueAttributes
    // (what Lambda's poller needs: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html),
    // plus ChangeMessageVisibility and GetQueueUrl, which neither the poller nor the downloader calls (the cloud
    // twin lists them unused). Left as they are: replacing the event source with a hand-made mapping and
    // statement saves two harmless actions on this one queue.
    consumer.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: trigger.batchSize,
        maxConcurrency: trigger.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
  }
}
