import { Duration } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { type DeadLetterQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface SecureQueueProps {
  /** The stage's key; unset, SQS-managed keys (for the one queue that must not depend on the stage key). */
  key?: IKey;
  retention: Duration;
  visibilityTimeout?: Duration;
  deadLetterQueue?: DeadLetterQueue;
}

/** SQS retains a message for at most 14 days (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html). */
export const MAX_QUEUE_RETENTION = Duration.days(14);

/**
 * Every queue of the app: encrypted (with the stage's key, the data key reused for 5 minutes to keep KMS calls
 * few) and refusing requests that are not over TLS.
 */
export function secureQueue(scope: Construct, id: string, props: SecureQueueProps): Queue {
  return new Queue(scope, id, {
    ...(props.key === undefined
      ? { encryption: QueueEncryption.SQS_MANAGED }
      : {
          encryption: QueueEncryption.KMS,
          encryptionMasterKey: props.key,
          dataKeyReuse: Duration.minutes(5),
        }),
    enforceSSL: true,
    retentionPeriod: props.retention,
    ...(props.visibilityTimeout === undefined ? {} : { visibilityTimeout: props.visibilityTimeout }),
    ...(props.deadLetterQueue === undefined ? {} : { deadLetterQueue: props.deadLetterQueue }),
  });
}
