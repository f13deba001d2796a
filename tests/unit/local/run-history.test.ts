import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readRunHistory } from '../../../local/run-history.js';
import { envelope } from '../../helpers/fakes.js';

const RUN = '2026-11-24';
const WINDOW = { from: '2026-11-24T00:00:00.000Z', to: '2026-11-25T00:00:00.000Z', timeZone: 'UTC' };

const at = (time: string) => ({ time: `2026-11-25T${time}Z` });
const planned = (dataset: string, time: string) =>
  envelope(
    'PagesPlanned',
    {
      runId: RUN,
      dataset,
      window: WINDOW,
      totalPages: 1,
      pageSize: 50_000,
      plannedAt: `2026-11-25T${time}Z`,
    },
    at(time),
  );
const downloaded = (dataset: string, time: string, outsideWindow: number) =>
  envelope(
    'PageDownloaded',
    {
      runId: RUN,
      dataset,
      page: 1,
      rows: 10,
      bytes: 100,
      key: `${dataset}/run=${RUN}/page-00001.ndjson`,
      outsideWindow,
    },
    at(time),
  );

/** A state folder holding only an archive of these events (no state.sqlite: the archive's facts alone). */
function stateFolderWith(events: readonly object[]): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'run-history-')), 'state');
  mkdirSync(path.join(dir, 'events'), { recursive: true });
  const lines = events.map((event) => JSON.stringify({ ...event, bus: 'fleet-etl' }));
  writeFileSync(path.join(dir, 'events', 'archive.ndjson'), `${lines.join('\n')}\n`);
  return dir;
}

describe('the nights of a state folder, from its event archive', () => {
  it('starts an attempt where a dataset is planned again, even after one that only planned and failed', async () => {
    // Prepare: the first attempt fails in the planner; the second plans both datasets and finishes.
    const stateDir = stateFolderWith([
      planned('vehicles', '01:00:00'),
      envelope(
        'EtlFailed',
        { runId: RUN, stage: 'planner', dataset: 'sensors', reason: 'HTTP 400' },
        at('01:00:01'),
      ),
      planned('vehicles', '02:00:00'),
      planned('sensors', '02:00:01'),
      downloaded('vehicles', '02:00:02', 0),
      downloaded('sensors', '02:00:03', 3),
      envelope(
        'EtlDone',
        {
          runId: RUN,
          window: WINDOW,
          files: ['10_raw_tables.sql'],
          results: {},
          summary: { queryExecutionIds: [], dataScannedBytes: 0, durationMs: 5 },
          unknownVehicles: { readings: 10, unknownVehicleReadings: 2, unknownVehicles: 1 },
        },
        at('02:00:07'),
      ),
    ]);

    // Act
    const { runs } = await readRunHistory(stateDir);

    // Assess: the failure belonged to the first attempt; the second's times give the duration.
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      runId: RUN,
      status: 'succeeded',
      window: WINDOW,
      attempts: 2,
      startedAt: '2026-11-25T02:00:00Z',
      endedAt: '2026-11-25T02:00:07Z',
      durationMs: 7_000,
      failures: [],
      unknownVehicleReadings: 2,
      datasets: { sensors: { outsideWindowRows: 3, plannedPages: null } },
      report: null,
    });
  });

  it('keeps the last attempt’s failures, once each, and calls a night without an end unfinished', async () => {
    const failing = envelope(
      'EtlFailed',
      { runId: RUN, stage: 'query-runner', reason: 'syntax error', file: '30_sensor_data.sql' },
      at('01:00:05'),
    );
    const failed = await readRunHistory(
      stateFolderWith([planned('vehicles', '01:00:00'), planned('sensors', '01:00:01'), failing, failing]),
    );
    expect(failed.runs[0]).toMatchObject({
      status: 'failed',
      attempts: 1,
      failures: ['query-runner: syntax error'],
    });

    const interrupted = await readRunHistory(
      stateFolderWith([
        planned('vehicles', '01:00:00'),
        planned('sensors', '01:00:01'),
        downloaded('sensors', '01:00:02', 0),
      ]),
    );
    expect(interrupted.runs[0]).toMatchObject({
      status: 'unfinished',
      attempts: 1,
      failures: [],
      durationMs: 2_000,
    });
  });
});
