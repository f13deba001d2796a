import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { type DownloadTask, DownloadTaskSchema } from '../ports/task-queue.js';
import { describeError, TerminalError } from '../shared/errors.js';
import { type DownloaderDeps, downloadPage } from './download-page.js';

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
  return middy<SQSEvent>()
    .use(
      sqsPartialBatchFailure({
        logger: (reason: unknown, record: SQSRecord) =>
          deps.logger.error('page failed', { messageId: record.messageId, reason: describeError(reason) }),
      }),
    )
    .handler(function downloader(event) {
      return Promise.allSettled(
        event.Records.map((record) =>
          Promise.resolve().then(() => downloadPage(parseTaskRecord(record), deps)),
        ),
      );
    });
}
