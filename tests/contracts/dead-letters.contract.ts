import type { DeadLetters } from '../../services/ports/dead-letters.js';
import { type AdapterFixture, describeContract } from './adapter-fixture.js';

export interface DeadLettersUnderTest {
  deadLetters: DeadLetters;
  /** Sends the bodies to the source queue and fails each until the queue's redrive policy dead-letters it. */
  deadLetter(bodies: readonly string[]): Promise<void>;
  /** Receives and deletes what the source queue holds now: where a redrive puts the messages back. */
  drainSource(): Promise<string[]>;
}

const bodies = (messages: readonly { body: string }[]) => messages.map((m) => m.body).sort();
const task = (page: number) => JSON.stringify({ runId: '2026-11-24', dataset: 'sensors', page });

/** What `etl dlq list` and `etl dlq redrive` rely on, locally and against SQS (services/ports/dead-letters.ts). */
export function deadLettersContract(fixture: AdapterFixture<DeadLettersUnderTest>): void {
  describeContract('DeadLetters', fixture, (fresh) => {
    it('lists nothing when no message gave up, and says where it looked', async () => {
      const { deadLetters } = await fresh();
      expect(await deadLetters.list(10)).toEqual([]);
      expect(deadLetters.description).not.toBe('');
    });

    it('lists each dead letter once, with its body and how often it was received, without consuming it', async () => {
      const { deadLetters, deadLetter } = await fresh();
      await deadLetter([task(7), task(8), task(9)]);

      const listed = await deadLetters.list(10);

      expect(bodies(listed)).toEqual([task(7), task(8), task(9)]);
      expect(new Set(listed.map((m) => m.messageId)).size).toBe(3);
      for (const message of listed) {
        expect(message.receiveCount === undefined || message.receiveCount >= 1).toBe(true);
        expect(message.deadLetteredAt === undefined || Number.isInteger(message.deadLetteredAt)).toBe(true);
      }
      // Bodies and ids only: SQS counts each listing's peek as a receive, so its receiveCount grows with them.
      const again = await deadLetters.list(10);
      expect(again.map((m) => [m.messageId, m.body]).sort()).toEqual(
        listed.map((m) => [m.messageId, m.body]).sort(),
      );
    });

    it('lists at most as many as asked', async () => {
      const { deadLetters, deadLetter } = await fresh();
      await deadLetter([task(1), task(2), task(3)]);
      expect(await deadLetters.list(2)).toHaveLength(2);
      expect(await deadLetters.list(10)).toHaveLength(3);
    });

    it('moves every dead letter back to its source queue, and says how many', async () => {
      const { deadLetters, deadLetter, drainSource } = await fresh();
      await deadLetter([task(1), task(2)]);

      expect(await deadLetters.redrive()).toBe(2);

      expect(await deadLetters.list(10)).toEqual([]);
      expect((await drainSource()).sort()).toEqual([task(1), task(2)]);
      expect(await deadLetters.redrive()).toBe(0);
    });

    it('moves only the dead letters the filter keeps, and leaves the others listed', async () => {
      const { deadLetters, deadLetter, drainSource } = await fresh();
      await deadLetter([task(1), task(2), task(3)]);

      expect(await deadLetters.redrive((m) => m.body !== task(2))).toBe(2);

      expect(bodies(await deadLetters.list(10))).toEqual([task(2)]);
      expect((await drainSource()).sort()).toEqual([task(1), task(3)]);
    });

    it('dead-letters a redriven message again when it fails again: it came back as a fresh message', async () => {
      const { deadLetters, deadLetter, drainSource } = await fresh();
      await deadLetter([task(1)]);
      await deadLetters.redrive();
      await drainSource();
      await deadLetter([task(1)]);

      expect(bodies(await deadLetters.list(10))).toEqual([task(1)]);
    });
  });
}
