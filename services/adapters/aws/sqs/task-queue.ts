import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DownloadTask, type TaskQueue, tasksToSend } from '../../../ports/task-queue.js';
import { TerminalError, TransientError } from '../../../shared/errors.js';
import { classifyAwsError } from '../aws-error.js';
import { batchesOf } from '../batches.js';
import {
  type EntryFailure,
  type RetryOptions,
  type RetryPolicy,
  retryPolicy,
  sendResendingFailures,
} from '../retry.js';

export interface SqsTaskQueueOptions extends RetryOptions {
  /** A standard queue: tasks are idempotent, so no MessageDeduplicationId or MessageGroupId is sent. */
  queueUrl: string;
}

/**
 * SendMessageBatch limits: 10 entries, and 256 KiB for the sum of the bodies; an entry Id is at most 80
 * characters of [A-Za-z0-9_-] and unique within its batch
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html).
 */
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;
const ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

interface TaskEntry {
  Id: string;
  MessageBody: string;
  label: string;
}

/**
 * The entry Id is derived from the task, so a re-sent entry keeps its Id. Run ids (<= 63 characters of
 * [0-9A-Za-z-]), dataset names and page numbers (<= 7 digits) keep it within SQS's 80 characters.
 */
function entryFor(task: DownloadTask): TaskEntry {
  const id = `${task.runId}_${task.dataset}_${task.page}`;
  if (!ENTRY_ID.test(id)) {
    throw new TerminalError(`cannot derive an SQS batch entry id from task ${JSON.stringify(task)}`);
  }
  return { Id: id, MessageBody: JSON.stringify(task), label: `${task.dataset} page ${task.page}` };
}

/** The tasks queue over SQS SendMessageBatch. */
export class SqsTaskQueue implements TaskQueue {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #retry: RetryPolicy;

  constructor(client: SQSClient, options: SqsTaskQueueOptions) {
    this.#client = client;
    this.#queueUrl = options.queueUrl;
    this.#retry = retryPolicy(options);
  }

  async send(tasks: readonly DownloadTask[]): Promise<void> {
    const entries = tasksToSend(tasks).map(entryFor);
    const batches = batchesOf(entries, {
      maxCount: MAX_BATCH_ENTRIES,
      maxBytes: MAX_BATCH_BYTES,
      sizeOf: (entry) => Buffer.byteLength(entry.MessageBody),
      label: (entry) => `the task for ${entry.label}`,
    });
    for (const batch of batches) {
      await sendResendingFailures(batch, (pending) => this.#sendBatch(pending), this.#retry, {
        action: `SQS SendMessageBatch to ${this.#queueUrl}`,
        label: (entry) => entry.label,
      });
    }
  }

  async #sendBatch(entries: readonly TaskEntry[]): Promise<EntryFailure<TaskEntry>[]> {
    let output: SendMessageBatchCommandOutput;
    try {
      output = await this.#client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.#queueUrl,
          Entries: entries.map(({ Id, MessageBody }) => ({ Id, MessageBody })),
        }),
      );
    } catch (error) {
      throw classifyAwsError(error, `SQS SendMessageBatch to ${this.#queueUrl}`);
    }
    const byId = new Map(entries.map((entry) => [entry.Id, entry]));
    const failures: EntryFailure<TaskEntry>[] = [];
    for (const failed of output.Failed ?? []) {
      const entry = failed.Id === undefined ? undefined : byId.get(failed.Id);
      if (entry === undefined) {
        throw new TransientError(`SQS SendMessageBatch reported a failure for unknown entry "${failed.Id}"`);
      }
      byId.delete(entry.Id);
      // SenderFault: the request itself was wrong, so sending it again cannot help.
      failures.push({ entry, code: failed.Code ?? 'UnknownError', retryable: failed.SenderFault !== true });
    }
    for (const done of output.Successful ?? []) {
      if (done.Id !== undefined) byId.delete(done.Id);
    }
    // An entry SQS reported neither way was not acknowledged: send it again rather than assume it arrived.
    for (const entry of byId.values()) failures.push({ entry, code: 'NotAcknowledged', retryable: true });
    return failures;
  }
}
