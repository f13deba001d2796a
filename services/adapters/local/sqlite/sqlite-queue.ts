import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { StateDatabase } from './state-database.js';

export interface QueueMessage {
  messageId: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  firstReceivedAt: number | undefined;
  receiptHandle: string;
}

export interface DeadLetter extends QueueMessage {
  deadLetteredAt: number;
}

export interface SqliteQueueOptions {
  name: string;
  /** How long a failed message stays invisible before it is received again (SQS's visibility timeout). */
  visibilityTimeoutMs: number;
  maxReceiveCount: number;
  now?: () => number;
}

/** Held by a live consumer of this process; a new process treats such messages as abandoned. */
const IN_FLIGHT = Number.MAX_SAFE_INTEGER;

const MessageRow = z.object({
  message_id: z.string(),
  body: z.string(),
  sent_at: z.number(),
  receive_count: z.number(),
  first_received_at: z.number().nullable(),
  receipt_handle: z.string().nullable(),
  dead_lettered_at: z.number().nullable(),
});

const toMessage = (row: z.infer<typeof MessageRow>): QueueMessage => ({
  messageId: row.message_id,
  body: row.body,
  sentAt: row.sent_at,
  receiveCount: row.receive_count,
  firstReceivedAt: row.first_received_at ?? undefined,
  receiptHandle: row.receipt_handle ?? '',
});

/**
 * An SQS standard queue with a redrive policy, persisted in the local state store so that an interrupted run
 * keeps its pending tasks and its dead letters. Receive hides messages, delete removes them, a released
 * (failed) message is received again after the visibility timeout, and a message received `maxReceiveCount`
 * times without success moves to the dead-letter queue (`<name>-dlq`) instead of being handed out again
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
 */
export class SqliteQueue {
  readonly deadLetterQueue: string;
  private readonly wakeups: (() => void)[] = [];
  private readonly now: () => number;
  private readonly statements;

  constructor(
    private readonly db: StateDatabase,
    readonly options: SqliteQueueOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.deadLetterQueue = `${options.name}-dlq`;
    this.statements = {
      insert: db.prepare(
        'INSERT INTO queue_messages (message_id, queue, body, sent_at, visible_at) VALUES (?, ?, ?, ?, ?)',
      ),
      visible: db.prepare(
        'SELECT * FROM queue_messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?',
      ),
      toDeadLetters: db.prepare(
        'UPDATE queue_messages SET queue = ?, dead_lettered_at = ?, visible_at = ? WHERE message_id = ?',
      ),
      hold: db.prepare(
        `UPDATE queue_messages SET receive_count = receive_count + 1, first_received_at = coalesce(first_received_at, ?),
         visible_at = ?, receipt_handle = ? WHERE message_id = ?`,
      ),
      deleteByHandle: db.prepare('DELETE FROM queue_messages WHERE queue = ? AND receipt_handle = ?'),
      releaseByHandle: db.prepare(
        'UPDATE queue_messages SET visible_at = ? WHERE queue = ? AND receipt_handle = ?',
      ),
      counts: db.prepare(
        `SELECT sum(visible_at <= ?) AS visible, sum(visible_at = ?) AS in_flight,
         sum(visible_at > ? AND visible_at < ?) AS delayed FROM queue_messages WHERE queue = ?`,
      ),
      size: db.prepare('SELECT count(*) AS n FROM queue_messages WHERE queue = ?'),
      recover: db.prepare('UPDATE queue_messages SET visible_at = ? WHERE queue = ? AND visible_at = ?'),
      deadLetters: db.prepare('SELECT * FROM queue_messages WHERE queue = ? ORDER BY dead_lettered_at, seq'),
      discard: db.prepare('DELETE FROM queue_messages WHERE queue = ? AND message_id = ?'),
      redrive: db.prepare(
        `UPDATE queue_messages SET queue = ?, receive_count = 0, first_received_at = NULL, receipt_handle = NULL,
         dead_lettered_at = NULL, visible_at = ? WHERE queue = ? AND message_id = ?`,
      ),
    };
  }

  send(bodies: readonly string[]): void {
    const now = this.now();
    this.db.transaction(() => {
      for (const body of bodies) this.statements.insert.run(randomUUID(), this.options.name, body, now, now);
    });
    this.wakeConsumers();
  }

  /** Puts a message straight into the dead-letter queue: an event target that gave up keeps it there. */
  addDeadLetter(body: string): void {
    const now = this.now();
    this.statements.insert.run(randomUUID(), this.deadLetterQueue, body, now, IN_FLIGHT);
    this.db
      .prepare('UPDATE queue_messages SET dead_lettered_at = ? WHERE queue = ? AND dead_lettered_at IS NULL')
      .run(now, this.deadLetterQueue);
  }

  /** Up to `max` visible messages, now held by the caller, and the ones that moved to the dead-letter queue. */
  receive(max: number): { received: QueueMessage[]; deadLettered: DeadLetter[] } {
    const now = this.now();
    return this.db.transaction(() => {
      const received: QueueMessage[] = [];
      const deadLettered: DeadLetter[] = [];
      while (received.length < max) {
        const rows = this.statements.visible.all(this.options.name, now, max - received.length);
        if (rows.length === 0) break;
        for (const raw of rows) {
          const row = MessageRow.parse(raw);
          if (row.receive_count >= this.options.maxReceiveCount) {
            this.statements.toDeadLetters.run(this.deadLetterQueue, now, IN_FLIGHT, row.message_id);
            deadLettered.push({ ...toMessage(row), deadLetteredAt: now });
            continue;
          }
          const receiveCount = row.receive_count + 1;
          const receiptHandle = createHash('sha256')
            .update(`${row.message_id}:${receiveCount}`)
            .digest('hex');
          this.statements.hold.run(now, IN_FLIGHT, receiptHandle, row.message_id);
          received.push({
            ...toMessage(row),
            receiveCount,
            firstReceivedAt: row.first_received_at ?? now,
            receiptHandle,
          });
        }
      }
      return { received, deadLettered };
    });
  }

  delete(receiptHandle: string): void {
    this.statements.deleteByHandle.run(this.options.name, receiptHandle);
  }

  /** The consumer failed the message (a batch item failure): it is received again after the timeout. */
  release(receiptHandle: string): void {
    this.settle([], [receiptHandle]);
  }

  /**
   * Deletes the messages a batch handled and releases those it failed, in one transaction: one commit per batch
   * instead of one per message, which halves the queue's cost per message.
   */
  settle(deleted: readonly string[], released: readonly string[]): void {
    const { name, visibilityTimeoutMs } = this.options;
    const visibleAt = this.now() + visibilityTimeoutMs;
    this.db.transaction(() => {
      for (const handle of deleted) this.statements.deleteByHandle.run(name, handle);
      for (const handle of released) this.statements.releaseByHandle.run(visibleAt, name, handle);
    });
    if (released.length > 0) setTimeout(() => this.wakeConsumers(), visibilityTimeoutMs + 1).unref();
  }

  /**
   * Messages held by a process that died (kill -9 during a batch) would stay invisible forever; the next process
   * makes them visible again, as SQS does when their visibility timeout expires. Returns how many.
   */
  recoverAbandoned(): number {
    return this.statements.recover.run(this.now(), this.options.name, IN_FLIGHT).changes;
  }

  get depth(): { visible: number; inFlight: number; delayed: number; deadLetters: number } {
    const now = this.now();
    const row = z
      .object({
        visible: z.number().nullable(),
        in_flight: z.number().nullable(),
        delayed: z.number().nullable(),
      })
      .parse(this.statements.counts.get(now, IN_FLIGHT, now, IN_FLIGHT, this.options.name));
    return {
      visible: row.visible ?? 0,
      inFlight: row.in_flight ?? 0,
      delayed: row.delayed ?? 0,
      deadLetters: this.deadLetterCount(),
    };
  }

  get size(): number {
    return z.object({ n: z.number() }).parse(this.statements.size.get(this.options.name)).n;
  }

  deadLetterCount(): number {
    return z.object({ n: z.number() }).parse(this.statements.size.get(this.deadLetterQueue)).n;
  }

  deadLetters(): DeadLetter[] {
    return this.statements.deadLetters.all(this.deadLetterQueue).map((raw) => {
      const row = MessageRow.parse(raw);
      return { ...toMessage(row), deadLetteredAt: row.dead_lettered_at ?? 0 };
    });
  }

  /** Moves the chosen dead letters back to the source queue with a fresh receive count (SQS's redrive). */
  redrive(messageIds: readonly string[]): number {
    const now = this.now();
    const moved = this.db.transaction(() =>
      messageIds.reduce(
        (sum, id) =>
          sum + this.statements.redrive.run(this.options.name, now, this.deadLetterQueue, id).changes,
        0,
      ),
    );
    this.wakeConsumers();
    return moved;
  }

  /** Deletes the chosen dead letters (their page was stored since: nothing to redrive). */
  discard(messageIds: readonly string[]): number {
    return this.db.transaction(() =>
      messageIds.reduce((sum, id) => sum + this.statements.discard.run(this.deadLetterQueue, id).changes, 0),
    );
  }

  /** Resolves when a message may have become receivable (a send, a release's timeout, a redrive). */
  waitForMessages(): Promise<void> {
    return new Promise((resolve) => this.wakeups.push(resolve));
  }

  /** Wakes every consumer blocked in waitForMessages, e.g. so they can notice a shutdown. */
  wakeConsumers(): void {
    for (const resolve of this.wakeups.splice(0)) resolve();
  }
}
