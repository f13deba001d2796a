import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetterMessage, DeadLetters } from '../../../ports/dead-letters.js';
import { TransientError } from '../../../shared/errors.js';
import { classifyAwsError } from '../aws-error.js';

export interface SqsDeadLettersOptions {
  /** The dead-letter queue. */
  deadLetterQueueUrl: string;
  /** The queue its messages came from, where a redrive sends them back. */
  sourceQueueUrl: string;
  /** How long a listed message is hidden while it is looked at; it becomes visible again right after. */
  peekVisibilitySeconds?: number;
}

const RECEIVE_ATTRIBUTES = ['ApproximateReceiveCount', 'SentTimestamp'] as const;

/**
 * `etl dlq` against real SQS. Listing receives messages without deleting them and makes them visible again at
 * once. Redriving receives, sends the bodies to the source queue and only then deletes them from the
 * dead-letter queue, so a crash in between duplicates a task (harmless: tasks are idempotent) and never loses
 * one. This is what SQS's own redrive does; it is written out with the basic API calls so it also runs against
 * emulators that lack StartMessageMoveTask
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html).
 */
export class SqsDeadLetters implements DeadLetters {
  readonly description: string;
  private readonly peekSeconds: number;

  constructor(
    private readonly client: SQSClient,
    private readonly options: SqsDeadLettersOptions,
  ) {
    this.description = options.deadLetterQueueUrl;
    this.peekSeconds = options.peekVisibilitySeconds ?? 30;
  }

  async list(limit: number): Promise<DeadLetterMessage[]> {
    const seen = new Map<string, DeadLetterMessage>();
    const held: Message[] = [];
    try {
      while (seen.size < limit) {
        const batch = await this.receive(Math.min(10, limit - seen.size));
        if (batch.length === 0) break;
        held.push(...batch);
        for (const message of batch) {
          const parsed = toDeadLetter(message);
          if (parsed) seen.set(parsed.messageId, parsed);
        }
      }
    } finally {
      await this.makeVisible(held);
    }
    return [...seen.values()];
  }

  async redrive(keep: (message: DeadLetterMessage) => boolean = () => true): Promise<number> {
    return this.take(keep, async (chosen) => {
      await this.sendToSource(chosen);
      await this.deleteFromDeadLetters(chosen);
    });
  }

  /** Deleted without a send: SQS keeps a dead letter until its retention ends otherwise (alarm included). */
  async discard(keep: (message: DeadLetterMessage) => boolean): Promise<number> {
    return this.take(keep, (chosen) => this.deleteFromDeadLetters(chosen));
  }

  /** Receives every message once, hands the chosen ones to `act` batch by batch, and makes the rest visible. */
  private async take(
    keep: (message: DeadLetterMessage) => boolean,
    act: (chosen: Message[]) => Promise<void>,
  ): Promise<number> {
    let taken = 0;
    const skipped: Message[] = [];
    try {
      for (;;) {
        const batch = await this.receive(10);
        if (batch.length === 0) break;
        const chosen = batch.filter((m) => {
          const parsed = toDeadLetter(m);
          return parsed !== undefined && keep(parsed);
        });
        skipped.push(...batch.filter((m) => !chosen.includes(m)));
        if (chosen.length === 0) continue;
        await act(chosen);
        taken += chosen.length;
      }
    } finally {
      await this.makeVisible(skipped);
    }
    return taken;
  }

  private async receive(max: number): Promise<Message[]> {
    try {
      const output = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.options.deadLetterQueueUrl,
          MaxNumberOfMessages: max,
          VisibilityTimeout: this.peekSeconds,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: [...RECEIVE_ATTRIBUTES],
        }),
      );
      return output.Messages ?? [];
    } catch (error) {
      throw classifyAwsError(error, `receiving from ${this.options.deadLetterQueueUrl}`);
    }
  }

  private async sendToSource(messages: Message[]): Promise<void> {
    const entries = messages.map((m, i) => ({ Id: `m${i}`, MessageBody: m.Body ?? '' }));
    try {
      const output = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.options.sourceQueueUrl, Entries: entries }),
      );
      if ((output.Failed ?? []).length > 0) {
        const codes = (output.Failed ?? []).map((f) => f.Code).join(', ');
        throw new TransientError(
          `redrive: ${output.Failed?.length} message(s) not sent back (${codes}); nothing deleted`,
        );
      }
    } catch (error) {
      throw classifyAwsError(error, `sending dead letters back to ${this.options.sourceQueueUrl}`);
    }
  }

  private async deleteFromDeadLetters(messages: Message[]): Promise<void> {
    const entries = messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle ?? '' }));
    try {
      await this.client.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.options.deadLetterQueueUrl, Entries: entries }),
      );
    } catch (error) {
      throw classifyAwsError(
        error,
        `deleting ${messages.length} message(s) from ${this.options.deadLetterQueueUrl}`,
      );
    }
  }

  private async makeVisible(messages: Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const entries = messages
        .slice(i, i + 10)
        .map((m, j) => ({ Id: `m${j}`, ReceiptHandle: m.ReceiptHandle ?? '', VisibilityTimeout: 0 }));
      await this.client
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.options.deadLetterQueueUrl,
            Entries: entries,
          }),
        )
        .catch(() => undefined); // They become visible anyway when the peek's visibility timeout ends.
    }
  }
}

function toDeadLetter(message: Message): DeadLetterMessage | undefined {
  if (message.MessageId === undefined || message.Body === undefined) return undefined;
  const count = Number(message.Attributes?.ApproximateReceiveCount);
  const sent = Number(message.Attributes?.SentTimestamp);
  return {
    messageId: message.MessageId,
    body: message.Body,
    receiveCount: Number.isFinite(count) ? count : undefined,
    deadLetteredAt: Number.isFinite(sent) ? sent : undefined,
  };
}
