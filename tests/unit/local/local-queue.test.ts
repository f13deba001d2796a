import { LocalQueue } from '../../../infra/local/local-queue.js';

function queue(maxReceiveCount = 2) {
  let now = 1_000;
  const q = new LocalQueue({ name: 'tasks', visibilityTimeoutMs: 100, maxReceiveCount, now: () => now });
  return { q, advance: (ms: number) => (now += ms) };
}

describe('LocalQueue', () => {
  it('hides a received message from other consumers until it is released', () => {
    const { q } = queue();
    q.send('a');
    expect(q.receive(10).received.map((m) => m.body)).toEqual(['a']);
    expect(q.receive(10).received).toEqual([]);
    expect(q.depth).toMatchObject({ inFlight: 1, visible: 0 });
  });

  it('deletes what succeeded', () => {
    const { q } = queue();
    q.send('a');
    const [message] = q.receive(1).received;
    q.delete(message?.receiptHandle ?? '');
    expect(q.isEmpty).toBe(true);
  });

  it('hands a released message out again only after the visibility timeout, counting receives', () => {
    const { q, advance } = queue();
    q.send('a');
    const [first] = q.receive(1).received;
    q.release(first?.receiptHandle ?? '');
    expect(q.receive(1).received).toEqual([]);
    advance(100);
    const [second] = q.receive(1).received;
    expect(second?.receiveCount).toBe(2);
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', () => {
    const { q, advance } = queue(2);
    q.send('poison');
    for (let i = 0; i < 2; i += 1) {
      const [m] = q.receive(1).received;
      q.release(m?.receiptHandle ?? '');
      advance(100);
    }
    const { received, deadLettered } = q.receive(1);
    expect(received).toEqual([]);
    expect(deadLettered.map((m) => m.body)).toEqual(['poison']);
    expect(q.deadLetters).toHaveLength(1);
    expect(q.isEmpty).toBe(true);
  });

  it('receives at most the batch size', () => {
    const { q } = queue();
    for (const body of ['a', 'b', 'c']) q.send(body);
    expect(q.receive(2).received).toHaveLength(2);
    expect(q.receive(2).received).toHaveLength(1);
  });
});
