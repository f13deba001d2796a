import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';
import { MAX_QUEUE_RETENTION, secureQueue } from './secure-queue.js';

export interface DeadLettersProps {
  key: IKey;
}

/**
 * Where the event-driven half of the pipeline puts what it gave up on, kept 14 days (SQS's maximum) and alarmed
 * on: events EventBridge could not deliver to a target (or could not encrypt), and asynchronous invocations that
 * still failed after Lambda's retries. The tasks queue has its own dead-letter queue.
 */
export class DeadLetters extends Construct {
  /** EventBridge target and bus dead-letter queue; messages carry the rule and target ARNs as attributes. */
  readonly undeliveredEvents: Queue;
  /** Lambda's on-failure destination: the event, the error and the function, as one JSON record. */
  readonly failedInvocations: Queue;
  /**
   * The bus's own dead-letter queue: events EventBridge could not encrypt or decrypt with the stage key
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-event-bus-dlq.html). It is encrypted
   * with SQS-managed keys on purpose: when the stage key is what fails (disabled, policy broken), a queue
   * encrypted with it could not take the events either.
   */
  readonly keyFailures: Queue;

  constructor(scope: Construct, id: string, props: DeadLettersProps) {
    super(scope, id);
    this.undeliveredEvents = secureQueue(this, 'UndeliveredEvents', {
      key: props.key,
      retention: MAX_QUEUE_RETENTION,
    });
    this.failedInvocations = secureQueue(this, 'FailedInvocations', {
      key: props.key,
      retention: MAX_QUEUE_RETENTION,
    });
    this.keyFailures = secureQueue(this, 'KeyFailures', { retention: MAX_QUEUE_RETENTION });
    for (const queue of [this.undeliveredEvents, this.failedInvocations, this.keyFailures]) {
      acknowledge(
        queue,
        ['AwsSolutions-SQS3'],
        'This queue is itself a dead-letter queue (of EventBridge targets, of the bus, or of Lambda ' +
          'asynchronous invocations), which cdk-nag cannot see because no RedrivePolicy points at it; it is ' +
          'alarmed on.',
      );
    }
  }
}
