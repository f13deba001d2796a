import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import type { SessionCredentials } from '../front/access-keys.js';
import type { TwinQueue, TwinQueueMapping } from '../template/stack-model.js';
import { TWIN_REGION } from '../twin-account.js';
import type { InvocationResult, LambdaEnvironment } from './lambda-runner.js';

/** The partial batch response (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html). */
const BatchResponseSchema = z.object({
  batchItemFailures: z.array(z.object({ itemIdentifier: z.string() })),
});

export interface PolledBatch {
  messageIds: string[];
  invocation: InvocationResult;
  /** Messages left on the queue to come back after the visibility timeout. */
  failedMessageIds: string[];
  /** Their receipt handles, for a caller that lets the visibility timeout elapse (CloudTwin.elapseVisibilityTimeout). */
  failedReceiptHandles: string[];
}

export interface QueueMappingOptions {
  mapping: TwinQueueMapping;
  queue: TwinQueue;
  environment: LambdaEnvironment;
  /** The front's address and the function's session: the mapping polls with the function's execution role. */
  endpoint: string;
  credentials: SessionCredentials;
}

/**
 * The SQS event source mapping of the template, one poll at a time: receive up to the batch size with the
 * function's role (Lambda's poller uses it, so the role needs ReceiveMessage, DeleteMessage and
 * GetQueueAttributes), invoke with an SQS event, delete what succeeded. With ReportBatchItemFailures only the
 * reported messages stay; without it, or when the invocation fails, the whole batch stays.
 */
export class QueueMapping {
  readonly #options: QueueMappingOptions;
  readonly #sqs: SQSClient;

  constructor(options: QueueMappingOptions) {
    this.#options = options;
    this.#sqs = new SQSClient({
      region: TWIN_REGION,
      endpoint: options.endpoint,
      credentials: options.credentials,
      maxAttempts: 1,
    });
  }

  /** One batch, or undefined when the queue had nothing visible. */
  async pollOnce(): Promise<PolledBatch | undefined> {
    const { mapping, queue, environment } = this.#options;
    const received = await this.#sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: Math.min(mapping.batchSize, 10),
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return undefined;
    const event: SQSEvent = { Records: messages.map((message) => this.#record(message)) };
    const invocation = await environment.invoke(event);
    const messageIds = event.Records.map((r) => r.messageId);
    const failed = new Set(
      invocation.ok ? this.#reportedFailures(invocation.result, messageIds) : messageIds,
    );
    const done = event.Records.filter((r) => !failed.has(r.messageId));
    if (done.length > 0) {
      await this.#sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: done.map((r, index) => ({ Id: String(index), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
    return {
      messageIds,
      invocation,
      failedMessageIds: [...failed],
      failedReceiptHandles: event.Records.filter((r) => failed.has(r.messageId)).map((r) => r.receiptHandle),
    };
  }

  close(): void {
    this.#sqs.destroy();
  }

  /** Failures the function reported; a malformed response fails the whole batch, as Lambda treats it. */
  #reportedFailures(result: unknown, messageIds: string[]): string[] {
    if (!this.#options.mapping.reportBatchItemFailures || result === null || result === undefined) return [];
    const parsed = BatchResponseSchema.safeParse(result);
    if (!parsed.success) return messageIds;
    const reported = parsed.data.batchItemFailures.map((f) => f.itemIdentifier);
    return reported.every((id) => messageIds.includes(id)) ? reported : messageIds;
  }

  #record(message: Message): SQSRecord {
    const attributes = message.Attributes ?? {};
    return {
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
        SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
        SenderId: attributes.SenderId ?? '',
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.#options.queue.arn,
      awsRegion: TWIN_REGION,
    };
  }
}
