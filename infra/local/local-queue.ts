import { createHash, randomUUID } from 'node:crypto';

export interface QueueMessage {
  messageId: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  firstReceivedAt: number | undefined;
  /** Epoch ms when the message may be received again; Infinity while a consumer holds it. */
  visibleAt: number;
  receiptHandle: string;
}

export interface LocalQueueOptions {
  name: string;
  /** Locally, how long a failed message stays invisible before it is retried (SQS: the visibility timeout). */
  visibilityTimeoutMs: number;
  maxReceiveCount: number;
  now?: () => number;
}

/**
 * An SQS standard queue with a redrive policy, in memory: receive hides messages, delete removes them, a failed
 * message becomes visible again after the visibility timeout, and a message received more than
 * `maxReceiveCount` times moves to the dead-letter queue instead of being handed out again.
 */
export class LocalQueue {
  private readonly messages = new Map<string, QueueMessage>();
  readonly deadLetters: QueueMessage[] = [];
  private readonly wakeups: (() => void)[] = [];
  private readonly now: () => number;

  constructor(readonly options: LocalQueueOptions) {
    this.now = options.now ?? Date.now;
  }

  send(body: string): QueueMessage {
    const message: QueueMessage = {
      messageId: randomUUID(),
      body,
      sentAt: this.now(),
      receiveCount: 0,
      firstReceivedAt: undefined,
      visibleAt: this.now(),
      receiptHandle: '',
    };
    this.messages.set(message.messageId, message);
    this.wakeConsumers();
    return message;
  }

  /** Up to `max` visible messages, now hidden from other consumers. Returns the dead-lettered ones separately. */
  receive(max: number): { received: QueueMessage[]; deadLettered: QueueMessage[] } {
    const now = this.now();
    const received: QueueMessage[] = [];
    const deadLettered: QueueMessage[] = [];
    for (const message of this.messages.values()) {
      if (received.length >= max) break;
      if (message.visibleAt > now) continue;
      if (message.receiveCount >= this.options.maxReceiveCount) {
        this.messages.delete(message.messageId);
        this.deadLetters.push(message);
        deadLettered.push(message);
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.visibleAt = Number.POSITIVE_INFINITY;
      message.receiptHandle = createHash('sha256')
        .update(`${message.messageId}:${message.receiveCount}`)
        .digest('hex');
      received.push({ ...message });
    }
    return { received, deadLettered };
  }

  delete(receiptHandle: string): void {
    for (const message of this.messages.values()) {
      if (message.receiptHandle === receiptHandle) {
        this.messages.delete(message.messageId);
        return;
      }
    }
  }

  /** The consumer gave the message back (a batch item failure): it is retried after the visibility timeout. */
  release(receiptHandle: string): void {
    for (const message of this.messages.values()) {
      if (message.receiptHandle === receiptHandle) {
        message.visibleAt = this.now() + this.options.visibilityTimeoutMs;
        setTimeout(() => this.wakeConsumers(), this.options.visibilityTimeoutMs + 1).unref();
        return;
      }
    }
  }

  get depth(): { visible: number; inFlight: number; delayed: number; deadLetters: number } {
    const now = this.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of this.messages.values()) {
      if (m.visibleAt === Number.POSITIVE_INFINITY) inFlight += 1;
      else if (m.visibleAt > now) delayed += 1;
      else visible += 1;
    }
    return { visible, inFlight, delayed, deadLetters: this.deadLetters.length };
  }

  get isEmpty(): boolean {
    return this.messages.size === 0;
  }

  /** Resolves when a message may have become receivable (a send, or a visibility timeout elapsing). */
  waitForMessages(): Promise<void> {
    return new Promise((resolve) => this.wakeups.push(resolve));
  }

  /** Wakes every consumer blocked in waitForMessages, e.g. so they can notice a shutdown. */
  wakeConsumers(): void {
    for (const resolve of this.wakeups.splice(0)) resolve();
  }
}
