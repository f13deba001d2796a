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
}
