import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type DateWindow, MAX_EVENT_BYTES } from '../../../events/index.js';
import { BUNDLED_QUERIES, runPipelineLocally } from '../../../local/run-pipeline.js';
import { createDuckDbQueryEngine } from '../../../services/adapters/local/duckdb/duckdb-query-engine.js';
import type {
  FetchedPage,
  FleetSource,
  PageRequest,
  PageSink,
} from '../../../services/ports/fleet-source.js';
import { reportKey } from '../../../services/shared/lake-keys.js';
import { ndjsonChunks, type SensorRow, type VehicleRow } from '../../../services/shared/rows.js';
import { nightlyWindow } from '../../../services/shared/run-identity.js';

const SLOW = 180_000;
const DAY = '2026-11-24';
const t0 = Date.parse(`${DAY}T08:00:00.000Z`);
/**
 * Each statement adds one execution id (about 43 bytes in JSON) to the run's lists: 6,500 make the big file's
 * SqlFileExecuted (its ids and the run's so far) about 560 KB, the later ones and EtlDone about 290 KB.
 */
const STATEMENTS = 6_500;

const vehicles: VehicleRow[] = [
  { vehicle_id: 'V1', vehicle_type: 'truck', created_at: '2026-11-24T01:00:00.000Z' },
  { vehicle_id: 'V2', vehicle_type: 'car', created_at: '2026-11-24T02:00:00.000Z' },
];
const readings: SensorRow[] = Array.from({ length: 10 }, (_, i) => ({
  vehicle_id: i % 2 === 0 ? 'V1' : 'V2',
  timestamp: t0 + i * 10_000,
  sensor_value: i,
  created_at: new Date(t0 + i * 10_000 + 500).toISOString(),
}));

/** One page per dataset, always answered. */
const source: FleetSource = {
  windowFor: (scheduledTime: Date): DateWindow => nightlyWindow(scheduledTime),
  maxPageSize: () => 50_000,
  countPages: async () => 1,
  async fetchPage<T>(request: PageRequest, sink: PageSink<T>): Promise<FetchedPage<T>> {
    const rows: unknown[] = request.dataset === 'vehicles' ? vehicles : readings;
    return { totalPages: 1, rows: rows.length, rejected: [], stored: await sink(ndjsonChunks(rows)) };
  },
};

/** The bundled queries plus a file of many statements, numbered to run between the tables and the answer. */
function bigSqlFolder(dir: string): string {
  const queries = path.join(dir, 'queries');
  cpSync(BUNDLED_QUERIES, queries, { recursive: true });
  const statements = Array.from({ length: STATEMENTS }, (_, i) => `SELECT ${i} AS x;`);
  writeFileSync(path.join(queries, '35_many_statements.sql'), `${statements.join('\n')}\n`);
  return queries;
}

/** Every object under a folder of the local results store, relative to it. */
const objectsUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));

describe('a run whose SqlFileExecuted and EtlDone are over 256 KB (decision 60)', () => {
  it(
    'sends them by reference, and the query runner, the report and the completion tracker get the full detail',
    async () => {
      // Prepare
      const dir = mkdtempSync(path.join(tmpdir(), 'oversized-'));
      const engine = await createDuckDbQueryEngine({ databasePath: path.join(dir, 'warehouse.duckdb') });
      const progress: string[] = [];

      // Act
      const summary = await runPipelineLocally({
        date: DAY,
        stateDir: dir,
        source,
        engine,
        queriesDir: bigSqlFolder(dir),
        pageSize: 50,
        onProgress: (line) => progress.push(line),
      }).finally(() => engine.close());

      // Assess: the run went through every file (the runner resolved each SqlFileExecuted it received) and no
      // consumer dead-lettered an event (the completion tracker and the report resolved EtlDone).
      expect(summary.failures).toEqual([]);
      expect(summary.status).toBe('succeeded');
      expect(summary.results.avg_seconds_between_measurements?.rows.length).toBeGreaterThan(0);

      // The details went by reference: stored under event-details/<type>/<run>/<sha256>.json, announced as such.
      const stored = objectsUnder(path.join(dir, 'results', 'event-details'));
      const storedOf = (type: string) => stored.filter((key) => key.startsWith(`${type}/${DAY}/`));
      expect(storedOf('EtlDone')).toHaveLength(1);
      expect(storedOf('SqlFileExecuted').length).toBeGreaterThanOrEqual(2);
      for (const key of stored)
        expect(key).toMatch(/^(EtlDone|SqlFileExecuted)\/2026-11-24\/[0-9a-f]{64}\.json$/);
      const etlDone = readFileSync(path.join(dir, 'results', 'event-details', storedOf('EtlDone')[0] ?? ''));
      expect(etlDone.byteLength).toBeGreaterThan(MAX_EVENT_BYTES);
      expect(
        progress.filter((line) => /^EtlDone of run 2026-11-24 sent by reference/.test(line)),
      ).toHaveLength(1);

      // The report was written from the full EtlDone: every SQL file and every execution id.
      const report = JSON.parse(readFileSync(path.join(dir, 'results', reportKey(DAY)), 'utf8'));
      expect(report.sqlFiles).toContain('35_many_statements.sql');
      expect(report.sql.queryExecutionIds.length).toBeGreaterThan(STATEMENTS);
    },
    SLOW,
  );
});
