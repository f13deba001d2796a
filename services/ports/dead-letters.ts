import type { RunLedger } from './run-ledger.js';
import { type DownloadTask, DownloadTaskSchema } from './task-queue.js';

/** A message that gave up: it stays in a dead-letter queue until someone looks at it and moves it back. */
export interface DeadLetterMessage {
  messageId: string;
  body: string;
  /** How many times the message was received before it was dead-lettered, when the queue says. */
  receiveCount: number | undefined;
  /** When it was dead-lettered (or first sent), epoch milliseconds, when the queue says. */
  deadLetteredAt: number | undefined;
}

/**
 * A dead-letter queue as `etl dlq` sees it: the local store's, or a real SQS queue's. Listing does not consume
 * the messages; redriving moves them back to their source queue, where they are received afresh.
 */
export interface DeadLetters {
  /** Where the messages are, for the user: a queue URL, or the local state file. */
  readonly description: string;
  list(limit: number): Promise<DeadLetterMessage[]>;
  /** Moves the messages the filter keeps (all by default) back to the source queue; returns how many. */
  redrive(keep?: (message: DeadLetterMessage) => boolean): Promise<number>;
  /** Deletes the messages the filter keeps, without sending them anywhere; returns how many. */
  discard(keep: (message: DeadLetterMessage) => boolean): Promise<number>;
}

/** The download task a dead letter holds, or undefined for another message (not JSON, not a task). */
export function downloadTaskOf(message: DeadLetterMessage): DownloadTask | undefined {
  let body: unknown;
  try {
    body = JSON.parse(message.body);
  } catch {
    return undefined;
  }
  const parsed = DownloadTaskSchema.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Whether a dead-lettered download task's page was stored since (a resumed night fetched it again): the letter is
 * resolved, there is nothing left to redrive, and it would only keep the dead-letter alarm ringing. Undefined when
 * the ledger cannot tell (not a download task, or a ledger the caller cannot read).
 */
export async function pageStoredSince(
  message: DeadLetterMessage,
  ledger: Pick<RunLedger, 'storedPage'> | undefined,
): Promise<boolean | undefined> {
  const task = downloadTaskOf(message);
  if (task === undefined || ledger?.storedPage === undefined) return undefined;
  return (await ledger.storedPage(task.runId, task.dataset, task.page)) !== undefined;
}
