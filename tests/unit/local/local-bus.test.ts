import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type EventBridgeEnvelope, toOutgoingEvent } from '../../../events/index.js';
import { EventPatternError } from '../../../local/event-pattern.js';
import { LocalBus } from '../../../local/local-bus.js';
import { validDetails } from '../../helpers/samples.js';

function busWithRules() {
  const archiveFile = path.join(mkdtempSync(path.join(tmpdir(), 'bus-')), 'archive.ndjson');
  const bus = new LocalBus({ archiveFile, busName: 'fleet-etl' });
  const received: Record<string, EventBridgeEnvelope[]> = { live: [], any: [] };
  bus.addRule({
    name: 'live',
    pattern: { source: ['fleet-etl'], 'replay-name': [{ exists: false }] },
    target: (e) => received.live?.push(e),
  });
  bus.addRule({ name: 'any', pattern: { source: ['fleet-etl'] }, target: (e) => received.any?.push(e) });
  return { bus, received, archiveFile };
}

const done = {
  runId: validDetails.EtlDone.runId,
  window: validDetails.EtlDone.window,
  files: [...validDetails.EtlDone.files],
  results: { ...validDetails.EtlDone.results },
  summary: {
    ...validDetails.EtlDone.summary,
    queryExecutionIds: [...validDetails.EtlDone.summary.queryExecutionIds],
  },
};

describe('LocalBus', () => {
  it('archives what is published and routes it to every matching rule', async () => {
    const { bus, received, archiveFile } = busWithRules();
    await bus.publish([toOutgoingEvent('EtlDone', done)]);
    await bus.close();
    expect(received.live).toHaveLength(1);
    expect(received.any).toHaveLength(1);
    expect(readFileSync(archiveFile, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('archives each event on one line as the bus name and the envelope its targets received', async () => {
    const { bus, received, archiveFile } = busWithRules();
    const event = toOutgoingEvent('EtlDone', done);
    await bus.publish([event, { ...event, detail: JSON.stringify(JSON.parse(event.detail), null, 2) }]);
    await bus.close();
    const lines = readFileSync(archiveFile, 'utf8').trim().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual(
      (received.any ?? []).map((envelope) => ({ bus: 'fleet-etl', ...envelope })),
    );
    expect(lines).toHaveLength(2);
  });

  it('fails publishing, naming the archive, when the archive cannot be written (a full disk), without crashing', async () => {
    // /dev/full answers every write with ENOSPC, as a full disk does.
    const bus = new LocalBus({ archiveFile: '/dev/full', busName: 'fleet-etl' });
    const event = toOutgoingEvent('EtlDone', done);
    const outcomes: unknown[] = [];
    // Appends are not awaited one by one: the failure of one reaches the publishes after it, a moment later. How
    // much later depends on the machine's load (20 tries of 10 ms were not enough at a load of 17), so the test
    // publishes until the failure arrives or 10 s have passed.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && outcomes.at(-1) === undefined) {
      outcomes.push(await bus.publish([event]).catch((e: unknown) => e));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await bus.close();
    expect(String(outcomes.at(-1))).toMatch(
      /cannot append to the event archive \/dev\/full: ENOSPC: no space left on device/,
    );
  });

  it('holds publishers back while the archive drains, and archives every event of concurrent publishers', async () => {
    const { bus, received, archiveFile } = busWithRules();
    // 40 events of 100 KB: well past the archive's 1 MiB high-water mark, so most publishers wait for a drain.
    const big = {
      ...toOutgoingEvent('EtlDone', done),
      detail: JSON.stringify({ note: 'x'.repeat(100_000) }),
    };
    await Promise.all(Array.from({ length: 40 }, () => bus.publish([big])));
    await bus.publish([toOutgoingEvent('EtlDone', done)]);
    await bus.close();
    expect(received.any).toHaveLength(41);
    expect(readFileSync(archiveFile, 'utf8').trim().split('\n')).toHaveLength(41);
  });

  it('replays with replay-name, without archiving, to the rules the replay names', async () => {
    const { bus, received, archiveFile } = busWithRules();
    await bus.publish([toOutgoingEvent('EtlDone', done)]);
    const [original] = received.any ?? [];
    if (original === undefined) throw new Error('nothing published');

    const toAll = bus.replay(original, 'r1', () => true);
    const toLive = bus.replay(original, 'r2', (rule) => rule === 'live');
    await bus.close();

    expect(toAll).toEqual(['any']);
    expect(toLive).toEqual([]);
    expect(received.any?.map((e) => e['replay-name'])).toEqual([undefined, 'r1']);
    expect(received.live).toHaveLength(1);
    expect(readFileSync(archiveFile, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('refuses a rule it cannot match exactly as EventBridge, naming the rule', () => {
    const bus = new LocalBus({ busName: 'fleet-etl' });
    expect(() => bus.addRule({ name: 'odd', pattern: { a: [{ regex: 'x' }] }, target: () => {} })).toThrow(
      EventPatternError,
    );
    expect(() => bus.addRule({ name: 'odd', pattern: { a: [{ regex: 'x' }] }, target: () => {} })).toThrow(
      /rule odd/,
    );
  });
});
