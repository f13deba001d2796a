import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { DetailType, publishEvent } from '../../events/index.js';
import { type DownloadTask, DownloadTaskSchema } from '../ports/task-queue.js';
import { describeError, TerminalError } from '../shared/errors.js';
import { type LogFields, withLogFields } from '../shared/log-context.js';
import { type DownloaderDeps, type DownloadOutcome, downloadPage } from './download-page.js';

/** Parses an SQS message body into a task; a bad message names its message id and the offending fields. */
export function parseTaskRecord(record: SQSRecord): DownloadTask {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (error) {
    throw new TerminalError(`message ${record.messageId}: body is not JSON`, { cause: error });
  }
  const parsed = DownloadTaskSchema.safeParse(body);
  if (!parsed.success) {
    throw new TerminalError(
      `message ${record.messageId}: invalid download task: ${z.prettifyError(parsed.error)}`,
      {
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

/**
 * Each record settles on its own; the middleware turns rejected ones into `batchItemFailures` so only they
 * return to the queue (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
 */
export function createDownloaderHandler(deps: DownloaderDeps) {
  const onePerPage = singleFlightByPage();
  return middy<SQSEvent>()
    .use(
      sqsPartialBatchFailure({
        logger: (reason: unknown, record: SQSRecord) =>
          deps.logger.error('page failed', {
            ...taskLogFields(record),
            messageId: record.messageId,
            reason: describeError(reason),
          }),
      }),
    )
    .handler(function downloader(event) {
      return Promise.allSettled(
        event.Records.map((record) => Promise.resolve().then(() => downloadRecord(record, deps, onePerPage))),
      );
    });
}

/**
 * Two tasks for the same page (a resumed run re-plans while the interrupted run's tasks are still queued, or a
 * message is delivered twice) handled by one execution environment at the same time run one after the other:
 * the second then finds the page stored and announces it without asking the API again.
 */
function singleFlightByPage() {
  const running = new Map<string, Promise<unknown>>();
  return async <T>(task: DownloadTask, work: () => Promise<T>): Promise<T> => {
    const key = `${task.runId}/${task.dataset}/${task.page}`;
    const previous = running.get(key);
    const current = (previous ?? Promise.resolve()).catch(() => undefined).then(work);
    running.set(key, current);
    try {
      return await current;
    } finally {
      if (running.get(key) === current) running.delete(key);
    }
  };
}

async function downloadRecord(
  record: SQSRecord,
  deps: DownloaderDeps,
  onePerPage: ReturnType<typeof singleFlightByPage>,
): Promise<DownloadOutcome> {
  const task = parseTaskRecord(record);
  // The records of a batch run at once: each one's lines carry its own run, dataset and page.
  return withLogFields({ runId: task.runId, dataset: task.dataset, page: task.page }, async () => {
    try {
      return await onePerPage(task, () => downloadPage(task, deps));
    } catch (error) {
      if (isLastReceive(record, deps.maxReceiveCount)) await announceGivingUp(task, error, deps);
      throw error;
    }
  });
}

/** The task's fields for a line about its record written outside the record's own work, if the body is a task. */
function taskLogFields(record: SQSRecord): LogFields {
  try {
    const { runId, dataset, page } = parseTaskRecord(record);
    return { runId, dataset, page };
  } catch {
    return {};
  }
}

/** SQS moves a message to the dead-letter queue instead of delivering it after `maxReceiveCount` receives. */
function isLastReceive(record: SQSRecord, maxReceiveCount: number | undefined): boolean {
  const received = Number(record.attributes.ApproximateReceiveCount);
  return maxReceiveCount !== undefined && Number.isInteger(received) && received >= maxReceiveCount;
}

/**
 * The page is about to be dead-lettered: the run cannot complete, and the reason (which the dead-letter queue
 * does not keep) goes out with EtlFailed. A failure to publish is logged, not thrown over the page's own error.
 */
async function announceGivingUp(task: DownloadTask, error: unknown, deps: DownloaderDeps): Promise<void> {
  const reason = `${task.dataset} page ${task.page}: ${describeError(error)}`.slice(0, 4_000);
  try {
    await publishEvent(deps.publisher, DetailType.EtlFailed, {
      runId: task.runId,
      stage: 'downloader',
      dataset: task.dataset,
      page: task.page,
      reason,
    });
  } catch (publishError) {
    deps.logger.error('could not announce a dead-lettered page', {
      runId: task.runId,
      dataset: task.dataset,
      page: task.page,
      reason,
      publishError: describeError(publishError),
    });
  }
}
