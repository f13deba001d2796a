import type { DeadLetterMessage, DeadLetters } from '../../../ports/dead-letters.js';
import type { SqliteQueue } from './sqlite-queue.js';

/** The tasks queue's dead letters in the local state store. */
export class SqliteDeadLetters implements DeadLetters {
  readonly description: string;

  constructor(
    private readonly queue: SqliteQueue,
    stateFile: string,
  ) {
    this.description = `${queue.deadLetterQueue} in ${stateFile}`;
  }

  async list(limit: number): Promise<DeadLetterMessage[]> {
    return this.queue
      .deadLetters()
      .slice(0, limit)
      .map((m) => ({
        messageId: m.messageId,
        body: m.body,
        receiveCount: m.receiveCount,
        deadLetteredAt: m.deadLetteredAt,
      }));
  }

  async redrive(keep: (message: DeadLetterMessage) => boolean = () => true): Promise<number> {
    const chosen = (await this.list(Number.MAX_SAFE_INTEGER)).filter(keep);
    return this.queue.redrive(chosen.map((m) => m.messageId));
  }

  async discard(keep: (message: DeadLetterMessage) => boolean): Promise<number> {
    const chosen = (await this.list(Number.MAX_SAFE_INTEGER)).filter(keep);
    return this.queue.discard(chosen.map((m) => m.messageId));
  }
}
