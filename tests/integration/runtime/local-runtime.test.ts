import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dlqCommand } from '../../../cli/dlq-command.js';
import type { DateWindow } from '../../../events/index.js';
import { runPipelineLocally } from '../../../local/run-pipeline.js';
import { createDuckDbQueryEngine } from '../../../services/adapters/local/duckdb/duckdb-query-engine.js';
import { SqliteQueue } from '../../../services/adapters/local/sqlite/sqlite-queue.js';
import { SqliteRunLedger } from '../../../services/adapters/local/sqlite/sqlite-run-ledger.js';
import { openStateDatabase } from '../../../services/adapters/local/sqlite/state-database.js';
import type {
  FetchedPage,
  FleetSource,
  PageRequest,
  PageSink,
} from '../../../services/ports/fleet-source.js';
import type { QueryEngine } from '../../../services/ports/query-engine.js';
import { TerminalError, TransientError } from '../../../services/shared/errors.js';
import { ndjsonChunks, type SensorRow, type VehicleRow } from '../../../services/shared/rows.js';
import { nightlyWindow } from '../../../services/shared/run-identity.js';
import { stdoutOf } from '../../helpers/stdout.js';

const SLOW = 60_000;
const DAY = '2026-11-24';
const t0 = Date.parse(`${DAY}T08:00:00.000Z`);

const vehicles: VehicleRow[] = [
  { vehicle_id: 'V1', vehicle_type: 'truck', created_at: '2026-11-24T01:00:00.000Z' },
  { vehicle_id: 'V2', vehicle_type: 'car', created_at: '2026-11-24T02:00:00.000Z' },
];
const readings: SensorRow[] = Array.from({ length: 30 }, (_, i) => ({
  vehicle_id: i % 2 === 0 ? 'V1' : 'V2',
  timestamp: t0 + i * 10_000,
  sensor_value: i,
  created_at: new Date(t0 + i * 10_000 + 500).toISOString(),
}));

/** Serves the rows above in pages of `pageSize`, failing the pages that `fault` says, as often as it says. */
class ScriptedSource implements FleetSource {
  readonly calls: PageRequest[] = [];
  constructor(
    private readonly fault: (request: PageRequest, attempt: number) => Error | undefined = () => undefined,
  ) {}

  windowFor(scheduledTime: Date): DateWindow {
    return nightlyWindow(scheduledTime);
  }

  maxPageSize(): number {
    return 50_000;
  }

  async countPages(request: PageRequest): Promise<number> {
    return this.serve(request).totalPages;
  }

  async fetchPage<T>(request: PageRequest, sink: PageSink<T>): Promise<FetchedPage<T>> {
    const { totalPages, rows } = this.serve(request);
    return { totalPages, rows: rows.length, rejected: [], stored: await sink(ndjsonChunks(rows)) };
  }

  private serve(request: PageRequest): { totalPages: number; rows: unknown[] } {
    const attempt =
      this.calls.filter((c) => c.dataset === request.dataset && c.page === request.page).length + 1;
    this.calls.push(request);
    const error = this.fault(request, attempt);
    if (error) throw error;
    const rows: unknown[] = request.dataset === 'vehicles' ? vehicles : readings;
    const start = (request.page - 1) * request.pageSize;
    return {
      totalPages: Math.ceil(rows.length / request.pageSize),
      rows: rows.slice(start, start + request.pageSize),
    };
  }
}

const unusedEngine: QueryEngine = {
  execute: async () => {
    throw new Error('the query stage must not start');
  },
};

/** Runs a CLI command that must succeed and returns what it wrote to stdout. */
async function captureStdout(command: () => Promise<number>): Promise<string> {
  const { code, out } = await stdoutOf(command);
  expect(code).toBe(0);
  return out;
}

const stateDir = () => mkdtempSync(path.join(tmpdir(), 'runtime-'));

describe('the local runtime', () => {
  it(
    'retries a page that failed transiently (batch item failure, visibility timeout) and completes the run',
    async () => {
      // Prepare: sensors page 2 fails on its first two attempts.
      const source = new ScriptedSource((r, attempt) =>
        r.dataset === 'sensors' && r.page === 2 && attempt <= 2
          ? new TransientError('503 from the API')
          : undefined,
      );
      const dir = stateDir();
      const engine = await createDuckDbQueryEngine({ databasePath: path.join(dir, 'warehouse.duckdb') });

      // Act
      const summary = await runPipelineLocally({
        date: DAY,
        stateDir: dir,
        source,
        engine,
        pageSize: 10,
      }).finally(() => engine.close());

      // Assess
      expect(summary.failures).toEqual([]);
      expect(summary.status).toBe('succeeded');
      expect(summary.datasets).toEqual({ vehicles: { pages: 1, rows: 2 }, sensors: { pages: 3, rows: 30 } });
      expect(source.calls.filter((c) => c.dataset === 'sensors' && c.page === 2)).toHaveLength(3);
      const answer = summary.results.avg_seconds_between_measurements?.rows;
      // Each vehicle measures every 20 s (the readings alternate between the two vehicles every 10 s).
      expect(answer).toEqual([
        { vehicle_type: 'car', avg_seconds_between_measurements: 20, vehicles: 1 },
        { vehicle_type: 'truck', avg_seconds_between_measurements: 20, vehicles: 1 },
      ]);
    },
    SLOW,
  );

  it(
    'fails the run, naming the page, when a page fails until its receive limit',
    async () => {
      // Prepare: sensors page 3 always answers 400.
      const source = new ScriptedSource((r) =>
        r.dataset === 'sensors' && r.page === 3
          ? new TerminalError('400 Bad Request from the API')
          : undefined,
      );
      const dir = stateDir();

      // Act
      const summary = await runPipelineLocally({
        date: DAY,
        stateDir: dir,
        source,
        engine: unusedEngine,
        pageSize: 10,
      });

      // Assess
      expect(summary.status).toBe('failed');
      // The downloader announces the page's own reason on its last receive, then the queue dead-letters it.
      expect(summary.failures).toEqual([
        'downloader: sensors page 3: 400 Bad Request from the API',
        expect.stringMatching(/^downloader: dead letter: received 5 times/),
      ]);
      const db = openStateDatabase(path.join(dir, 'state.sqlite'));
      const letters = new SqliteQueue(db, {
        name: 'tasks',
        visibilityTimeoutMs: 0,
        maxReceiveCount: 5,
      }).deadLetters();
      expect(letters.map((l) => JSON.parse(l.body))).toEqual([
        expect.objectContaining({ dataset: 'sensors', page: 3 }),
      ]);
      db.close();
      expect(source.calls.filter((c) => c.dataset === 'sensors' && c.page === 3)).toHaveLength(5);

      // `etl dlq list` names the page and the reason the downloader gave; `redrive` moves it back.
      const listed = await captureStdout(() => dlqCommand(['list', '--state-dir', dir, '--json']));
      expect(JSON.parse(listed).messages).toEqual([
        expect.objectContaining({ run: DAY, dataset: 'sensors', page: 3, receives: 5 }),
      ]);
      const redriven = await captureStdout(() =>
        dlqCommand(['redrive', '--state-dir', dir, '--run', DAY, '--json']),
      );
      expect(JSON.parse(redriven)).toMatchObject({ redriven: 1 });
      expect(
        JSON.parse(await captureStdout(() => dlqCommand(['list', '--state-dir', dir, '--json']))).messages,
      ).toEqual([]);
    },
    SLOW,
  );

  it(
    'removes the dead letter of a page a resumed night stored, and etl dlq offers no redrive of a stored page',
    async () => {
      // Prepare: a night whose sensors page 3 gave up (dead-lettered), on an engine that never runs queries.
      const dir = stateDir();
      const failing = new ScriptedSource((r) =>
        r.dataset === 'sensors' && r.page === 3
          ? new TerminalError('400 Bad Request from the API')
          : undefined,
      );
      await runPipelineLocally({
        date: DAY,
        stateDir: dir,
        source: failing,
        engine: unusedEngine,
        pageSize: 10,
      });
      const listed = await captureStdout(() => dlqCommand(['list', '--state-dir', dir, '--json']));
      expect(JSON.parse(listed).messages).toEqual([
        expect.objectContaining({ dataset: 'sensors', page: 3, stored_since: false }),
      ]);

      // Act: the API healed, the night resumed (no redrive).
      const progress: string[] = [];
      const engine = await createDuckDbQueryEngine({ databasePath: path.join(dir, 'warehouse.duckdb') });
      const resumed = await runPipelineLocally({
        date: DAY,
        stateDir: dir,
        source: new ScriptedSource(),
        engine,
        pageSize: 10,
        onProgress: (line) => progress.push(line),
      }).finally(() => engine.close());

      // Assess: the page is stored and its dead letter gone, saying so.
      expect(resumed.status).toBe('succeeded');
      expect(progress).toContain('removed the dead letter of sensors page 3: the page is stored now');
      const after = await captureStdout(() => dlqCommand(['list', '--state-dir', dir, '--json']));
      expect(JSON.parse(after).messages).toEqual([]);
    },
    SLOW,
  );

  it(
    'lists a dead letter whose page is stored since as resolved, and redrive removes it instead of moving it back',
    async () => {
      // Prepare: sensors page 3 dead-lettered; then the page stored by an attempt that never reached its end (a
      // kill, or a state folder from before such letters were removed), so the letter is still there.
      const dir = stateDir();
      const failing = new ScriptedSource((r) =>
        r.dataset === 'sensors' && r.page === 3
          ? new TerminalError('400 Bad Request from the API')
          : undefined,
      );
      await runPipelineLocally({
        date: DAY,
        stateDir: dir,
        source: failing,
        engine: unusedEngine,
        pageSize: 10,
      });
      const db = openStateDatabase(path.join(dir, 'state.sqlite'));
      await new SqliteRunLedger(db).recordPage(DAY, 'sensors', 3, 10);

      // Act
      const listed = JSON.parse(
        await captureStdout(() => dlqCommand(['list', '--state-dir', dir, '--json'])),
      );
      const redriven = JSON.parse(
        await captureStdout(() => dlqCommand(['redrive', '--state-dir', dir, '--run', DAY, '--json'])),
      );

      // Assess
      expect(listed.messages).toEqual([
        expect.objectContaining({
          dataset: 'sensors',
          page: 3,
          stored_since: true,
          reason: expect.stringMatching(/^resolved: the page is stored since/),
        }),
      ]);
      expect(redriven).toMatchObject({ redriven: 0, removed: 1 });
      const queue = new SqliteQueue(db, { name: 'tasks', visibilityTimeoutMs: 0, maxReceiveCount: 5 });
      expect({ tasks: queue.size, deadLetters: queue.deadLetterCount() }).toEqual({
        tasks: 0,
        deadLetters: 0,
      });
      db.close();
    },
    SLOW,
  );

  it(
    'fails the run with the planner’s reason when the API refuses the first page',
    async () => {
      const source = new ScriptedSource((r) =>
        r.dataset === 'vehicles' ? new TerminalError('401 invalid_client') : undefined,
      );
      const summary = await runPipelineLocally({
        date: DAY,
        stateDir: stateDir(),
        source,
        engine: unusedEngine,
      });
      expect(summary.status).toBe('failed');
      expect(summary.failures).toEqual(['planner: page 1 of vehicles: 401 invalid_client']);
    },
    SLOW,
  );

  it(
    'archives every event in its EventBridge envelope, and dead-letters an event its target keeps failing on',
    async () => {
      // Prepare: the query engine fails with an unexpected (so retryable) error on every attempt.
      const dir = stateDir();

      // Act
      const summary = await runPipelineLocally({
        date: DAY,
        stateDir: dir,
        source: new ScriptedSource(),
        engine: unusedEngine,
      });

      // Assess
      const archived = readFileSync(path.join(dir, 'events', 'archive.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(archived.map((e) => e['detail-type'])).toEqual(
        expect.arrayContaining(['PagesPlanned', 'PageDownloaded', 'DownloadsDrained']),
      );
      expect(archived[0]).toMatchObject({
        version: '0',
        source: 'fleet-etl',
        bus: 'fleet-etl',
        detail: { runId: DAY },
      });
      expect(summary.status).toBe('failed');
      expect(summary.failures).toEqual(['queryRunner: dead letter: the query stage must not start']);
    },
    SLOW,
  );
});
