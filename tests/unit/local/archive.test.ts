import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toOutgoingEvent } from '../../../events/index.js';
import {
  ArchiveError,
  dropTornLastLine,
  readArchive,
  runIdOf,
  selectEvents,
} from '../../../local/archive.js';
import { LocalBus } from '../../../local/local-bus.js';
import { envelope } from '../../helpers/fakes.js';
import { validDetails } from '../../helpers/samples.js';

const line = (detailType: keyof typeof validDetails, time: string) =>
  `${JSON.stringify({ bus: 'fleet-etl', ...envelope(detailType, validDetails[detailType], { time }) })}\n`;

function archiveFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'archive-')), 'archive.ndjson');
  writeFileSync(file, text);
  return file;
}

describe('readArchive', () => {
  it('reads every line, validated', () => {
    const file = archiveFile(
      line('PagesPlanned', '2026-11-25T01:00:00Z') + line('EtlDone', '2026-11-25T01:00:09Z'),
    );
    const { events, truncatedLastLine } = readArchive(file);
    expect(events.map((e) => e['detail-type'])).toEqual(['PagesPlanned', 'EtlDone']);
    expect(truncatedLastLine).toBeUndefined();
  });

  it('treats a missing archive as empty', () => {
    expect(readArchive(path.join(tmpdir(), 'no-such-folder', 'archive.ndjson'))).toEqual({ events: [] });
  });

  it('skips, and reports, a last line cut short by a crash while appending', () => {
    const file = archiveFile(line('EtlDone', '2026-11-25T01:00:09Z'));
    appendFileSync(file, '{"bus":"fleet-etl","version":"0","id":"x","detail-ty');
    const { events, truncatedLastLine } = readArchive(file);
    expect(events).toHaveLength(1);
    expect(truncatedLastLine).toBe(2);
  });

  it('reads whole after a killed append, once the next process has published on the bus', async () => {
    // Prepare: one whole event, then what a process killed mid-append leaves.
    const file = archiveFile(line('PagesPlanned', '2026-11-25T01:00:00Z'));
    appendFileSync(file, '{"bus":"fleet-etl","version":"0","id":"x","detail-ty');
    // Act: the next process publishes (the bus appends to the same archive).
    const bus = new LocalBus({ archiveFile: file, busName: 'fleet-etl' });
    await bus.publish([toOutgoingEvent('PagesPlanned', { ...validDetails.PagesPlanned })]);
    await bus.close();
    // Assess: the torn fragment is gone, not glued to the new event.
    const { events, truncatedLastLine } = readArchive(file);
    expect(events.map((e) => e['detail-type'])).toEqual(['PagesPlanned', 'PagesPlanned']);
    expect(truncatedLastLine).toBeUndefined();
  });

  it('drops only a last line without its newline', () => {
    const whole = line('EtlDone', '2026-11-25T01:00:09Z');
    const file = archiveFile(whole);
    expect(dropTornLastLine(file)).toBe(0);
    appendFileSync(file, '{"torn');
    expect(dropTornLastLine(file)).toBe(6);
    expect(readFileSync(file, 'utf8')).toBe(whole);
    expect(dropTornLastLine(archiveFile('{"only a fragment'))).toBe(17);
    expect(dropTornLastLine(path.join(tmpdir(), 'no-such-folder', 'archive.ndjson'))).toBe(0);
    // A long archive: the last newline is found across reads of 64 KiB.
    const long = archiveFile(`${'x'.repeat(200_000)}
${'y'.repeat(70_000)}`);
    expect(dropTornLastLine(long)).toBe(70_000);
    expect(readFileSync(long, 'utf8')).toHaveLength(200_001);
  });

  it('refuses a bad line in the middle, naming it', () => {
    const file = archiveFile(
      `${line('EtlDone', '2026-11-25T01:00:09Z')}{"bus":"fleet-etl"}\n${line('EtlDone', '2026-11-25T01:00:10Z')}`,
    );
    expect(() => readArchive(file)).toThrow(ArchiveError);
    expect(() => readArchive(file)).toThrow(/line 2: not an archived event/);
  });
});

describe('selectEvents', () => {
  const { events } = readArchive(
    archiveFile(
      line('PagesPlanned', '2026-11-25T00:59:59Z') +
        line('PagesPlanned', '2026-11-25T01:00:00Z') +
        line('EtlDone', '2026-11-25T01:30:00Z') +
        line('EtlDone', '2026-11-25T02:00:00Z'),
    ),
  );

  it('selects [since, until): since included, until excluded, as EventBridge replays', () => {
    const selected = selectEvents(events, {
      since: new Date('2026-11-25T01:00:00Z'),
      until: new Date('2026-11-25T02:00:00Z'),
    });
    expect(selected.map((e) => e.time)).toEqual(['2026-11-25T01:00:00Z', '2026-11-25T01:30:00Z']);
  });

  it('selects detail-types and runs', () => {
    expect(selectEvents(events, { detailTypes: ['EtlDone'] })).toHaveLength(2);
    expect(selectEvents(events, { runId: '2026-11-24' })).toHaveLength(4);
    expect(selectEvents(events, { runId: '2026-11-23' })).toHaveLength(0);
  });

  it('reads the run of an event from its detail', () => {
    expect(events[0] && runIdOf(events[0])).toBe('2026-11-24');
    expect(runIdOf({ detail: { other: 1 } })).toBeUndefined();
  });
});
