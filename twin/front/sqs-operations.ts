import type { TwinQueue } from '../template/stack-model.js';
import { TWIN_ACCOUNT, TWIN_REGION } from '../twin-account.js';
import type { IamCheck } from './iam-check.js';

/** The SQS operations the twin passes on, and the IAM action each is authorized as. */
const ACTION_OF: Readonly<Record<string, string>> = {
  SendMessage: 'sqs:SendMessage',
  SendMessageBatch: 'sqs:SendMessage',
  ReceiveMessage: 'sqs:ReceiveMessage',
  DeleteMessage: 'sqs:DeleteMessage',
  DeleteMessageBatch: 'sqs:DeleteMessage',
  ChangeMessageVisibility: 'sqs:ChangeMessageVisibility',
  ChangeMessageVisibilityBatch: 'sqs:ChangeMessageVisibility',
  GetQueueAttributes: 'sqs:GetQueueAttributes',
  GetQueueUrl: 'sqs:GetQueueUrl',
  ListDeadLetterSourceQueues: 'sqs:ListDeadLetterSourceQueues',
  StartMessageMoveTask: 'sqs:StartMessageMoveTask',
  PurgeQueue: 'sqs:PurgeQueue',
};

export interface SqsOperation {
  name: string;
  queue: TwinQueue;
  checks: IamCheck[];
}

export class UnmappedSqsRequestError extends Error {
  override readonly name = 'UnmappedSqsRequestError';
}

export class NonexistentQueueError extends Error {
  override readonly name = 'NonexistentQueueError';
}

/**
 * Maps an SQS JSON-protocol request (`X-Amz-Target: AmazonSQS.<Operation>`) to its queue and IAM checks. On a
 * queue encrypted with a KMS key, SQS uses the key with the caller's permissions: producers need GenerateDataKey
 * and Decrypt, consumers Decrypt
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
 */
export function sqsOperation(
  target: string,
  body: Record<string, unknown>,
  queues: Iterable<TwinQueue>,
): SqsOperation {
  const name = target.replace(/^AmazonSQS\./, '');
  const action = ACTION_OF[name];
  if (action === undefined) throw new UnmappedSqsRequestError(`the twin does not pass on SQS ${name}`);
  const all = [...queues];
  const queue =
    name === 'GetQueueUrl'
      ? all.find((q) => q.name === body.QueueName)
      : all.find((q) => q.url === body.QueueUrl);
  if (queue === undefined)
    throw new NonexistentQueueError(
      `The specified queue does not exist: ${String(body.QueueUrl ?? body.QueueName)}`,
    );
  const checks: IamCheck[] = [{ action, resource: queue.arn }];
  const viaSqs = { 'kms:ViaService': `sqs.${TWIN_REGION}.amazonaws.com`, 'kms:CallerAccount': TWIN_ACCOUNT };
  if (queue.kmsKeyArn !== undefined) {
    if (action === 'sqs:SendMessage') {
      checks.push({ action: 'kms:GenerateDataKey', resource: queue.kmsKeyArn, context: viaSqs });
      checks.push({ action: 'kms:Decrypt', resource: queue.kmsKeyArn, context: viaSqs });
    }
    if (action === 'sqs:ReceiveMessage')
      checks.push({ action: 'kms:Decrypt', resource: queue.kmsKeyArn, context: viaSqs });
  }
  return { name, queue, checks };
}
