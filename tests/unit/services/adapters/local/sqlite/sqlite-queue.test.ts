import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteQueue } from '../../../../../../services/adapters/local/sqlite/sqlite-queue.js';
import { openStateDatabase } from '../../../../../../services/adapters/local/sqlite/state-database.js';

function queue(maxReceiveCount = 2, file = ':memory:') {
  let now = 1_000;
  const db = openStateDatabase(file);
  const q = new SqliteQueue(db, { name: 'tasks', visibilityTimeoutMs: 100, maxReceiveCount, now: () => now });
  return { q, db, advance: (ms: number) => (now += ms) };
}

describe('SqliteQueue', () => {
  it('hides a received message from other consumers until it is released', () => {
    const { q } = queue();
    q.send(['a']);
    expect(q.receive(10).received.map((m) => m.body)).toEqual(['a']);
    expect(q.receive(10).received).toEqual([]);
    expect(q.depth).toMatchObject({ inFlight: 1, visible: 0 });
  });

  it('deletes what succeeded', () => {
    const { q } = queue();
    q.send(['a']);
    const [message] = q.receive(1).received;
    q.delete(message?.receiptHandle ?? '');
    expect(q.size).toBe(0);
  });

  it('settles a batch at once: deletes what succeeded, releases what failed', () => {
    const { q, advance } = queue();
    q.send(['a', 'b', 'c']);
    const [a, b, c] = q.receive(3).received;
    q.settle([a?.receiptHandle ?? '', c?.receiptHandle ?? ''], [b?.receiptHandle ?? '']);
    expect(q.size).toBe(1);
    expect(q.receive(3).received).toEqual([]);
    advance(100);
    expect(q.receive(3).received.map((m) => [m.body, m.receiveCount])).toEqual([['b', 2]]);
  });

  it('hands a released message out again only after the visibility timeout, counting receives', () => {
    const { q, advance } = queue();
    q.send(['a']);
    const [first] = q.receive(1).received;
    q.release(first?.receiptHandle ?? '');
    expect(q.receive(1).received).toEqual([]);
    advance(100);
    const [second] = q.receive(1).received;
    expect(second?.receiveCount).toBe(2);
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives, and redrives it', () => {
    const { q, advance } = queue(2);
    q.send(['poison']);
    for (let i = 0; i < 2; i += 1) {
      const [m] = q.receive(1).received;
      q.release(m?.receiptHandle ?? '');
      advance(100);
    }
    const { received, deadLettered } = q.receive(1);
    expect(received).toEqual([]);
    expect(deadLettered.map((m) => m.body)).toEqual(['poison']);
    expect(q.deadLetters().map((m) => [m.body, m.receiveCount])).toEqual([['poison', 2]]);
    expect(q.size).toBe(0);

    expect(q.redrive(q.deadLetters().map((m) => m.messageId))).toBe(1);
    expect(q.deadLetterCount()).toBe(0);
    expect(q.receive(1).received.map((m) => [m.body, m.receiveCount])).toEqual([['poison', 1]]);
  });

  it('receives at most the batch size, oldest first', () => {
    const { q } = queue();
    q.send(['a', 'b', 'c']);
    expect(q.receive(2).received.map((m) => m.body)).toEqual(['a', 'b']);
    expect(q.receive(2).received.map((m) => m.body)).toEqual(['c']);
  });

  it('keeps messages across a crash and makes the ones held by the dead process visible again', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'queue-')), 'state.sqlite');
    const before = queue(5, file);
    before.q.send(['held', 'waiting']);
    before.q.receive(1);
    before.db.close(); // the process dies while holding "held"

    const after = queue(5, file);
    expect(after.q.receive(10).received.map((m) => m.body)).toEqual(['waiting']);
    expect(after.q.recoverAbandoned()).toBe(2);
    expect(
      after.q
        .receive(10)
        .received.map((m) => m.body)
        .sort(),
    ).toEqual(['held', 'waiting']);
  });
});
