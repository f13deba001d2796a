import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import * as z from 'zod';
import { eventsCommand } from '../../../cli/events-command.js';
import { replayCommand } from '../../../cli/replay-command.js';
import {
  allDetailTypes,
  DetailType,
  EVENT_SOURCE,
  type FleetEvent,
  parseFleetEvent,
} from '../../../events/index.js';
import { readArchive } from '../../../local/archive.js';
import { replayLocally } from '../../../local/replay.js';
import { type ExtraConsumer, stateLayout } from '../../../local/runtime.js';
import { stdoutOf } from '../../helpers/stdout.js';
import { runNights } from './fleet-nights.js';

const SLOW = 120_000;

const EventsListingSchema = z.object({
  events: z.array(z.object({ detailType: z.string(), runId: z.string().optional(), summary: z.string() })),
});

const NIGHTS = ['2026-11-24', '2026-11-25'];

/** Every file under a folder with its size, modification time and content hash. */
function listing(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const stat = statSync(full);
        const hash = createHash('sha256').update(readFileSync(full)).digest('hex').slice(0, 16);
        files[path.relative(root, full)] = `${stat.size} ${stat.mtimeMs} ${hash}`;
      }
    }
  };
  walk(root);
  return files;
}

/** Same, without modification times: for files a replay may rewrite with the same bytes. */
const contents = (root: string) =>
  Object.fromEntries(
    Object.entries(listing(root)).map(([file, facts]) => [file, facts.replace(/ \S+ /, ' ')]),
  );

async function rowCounts(warehouse: string): Promise<Record<string, number>> {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  const counts: Record<string, number> = {};
  for (const table of ['vehicles_data', 'sensor_data']) {
    const reader = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n FROM read_parquet('${warehouse}/${table}/**/*.parquet', hive_partitioning = true)`,
    );
    counts[table] = Number(reader.getRowObjects()[0]?.n);
  }
  connection.closeSync();
  return counts;
}

/** A consumer of EtlDone written after the runs: it keeps every event it is given. */
function auditor(received: FleetEvent<typeof DetailType.EtlDone>[]): ExtraConsumer {
  return {
    name: 'auditor',
    pattern: { source: [EVENT_SOURCE], 'detail-type': [DetailType.EtlDone] },
    handler: async (event) => {
      received.push(parseFleetEvent(event, [DetailType.EtlDone]));
    },
  };
}

describe('replaying the local archive', () => {
  let ranInto: string;

  beforeAll(async () => {
    const { stateDir, summaries } = await runNights(NIGHTS);
    expect(summaries.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
    ranInto = stateDir;
  }, SLOW);

  const copyOfRuns = () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'replay-copy-'));
    cpSync(ranInto, copy, { recursive: true, preserveTimestamps: true });
    return copy;
  };

  it(
    'gives a consumer added after the runs each past EtlDone exactly once, marked as a replay',
    async () => {
      // Prepare
      const stateDir = copyOfRuns();
      const archiveBefore = readArchive(stateLayout(stateDir).archive).events.length;
      const received: FleetEvent<typeof DetailType.EtlDone>[] = [];

      // Act
      const summary = await replayLocally({
        stateDir,
        selection: {},
        consumers: ['auditor'],
        replayName: 'backfill-auditor',
        extraConsumers: [auditor(received)],
      });

      // Assess
      expect(received.map((e) => e.detail.runId).sort()).toEqual(NIGHTS);
      expect(received.every((e) => e['replay-name'] === 'backfill-auditor')).toBe(true);
      expect(summary.deliveries).toEqual({ auditor: 2 });
      expect(summary.deadLetters).toEqual([]);
      expect(readArchive(stateLayout(stateDir).archive).events).toHaveLength(archiveBefore);
    },
    SLOW,
  );

  it(
    'replays only the chosen detail-types, even to a consumer whose rule takes more',
    async () => {
      const stateDir = copyOfRuns();
      const seen: string[] = [];
      const everythingConsumer: ExtraConsumer = {
        name: 'tap',
        pattern: { source: [EVENT_SOURCE] },
        handler: async (event) => {
          seen.push(parseFleetEvent(event, allDetailTypes)['detail-type']);
        },
      };
      const summary = await replayLocally({
        stateDir,
        selection: { detailTypes: [DetailType.EtlDone, DetailType.DownloadsDrained] },
        consumers: ['tap'],
        replayName: 'two-types',
        extraConsumers: [everythingConsumer],
      });
      expect(summary.selected).toBe(4);
      expect(seen.sort()).toEqual(['DownloadsDrained', 'DownloadsDrained', 'EtlDone', 'EtlDone']);
    },
    SLOW,
  );

  it(
    'leaves the lake, the warehouse and the answer unchanged when everything is replayed to every rule',
    async () => {
      // Prepare
      const stateDir = copyOfRuns();
      const layout = stateLayout(stateDir);
      const lakeBefore = listing(path.join(stateDir, 'lake'));
      const resultsBefore = contents(layout.results);
      const countsBefore = await rowCounts(layout.warehouse);
      const archiveBefore = readFileSync(layout.archive, 'utf8');
      const everything = readArchive(layout.archive).events.length;

      // Act
      const summary = await replayLocally({ stateDir, selection: {}, replayName: 'everything' });

      // Assess: every event went to the bus; only the report (idempotent) acted on them.
      expect(summary.selected).toBe(everything);
      expect(summary.deliveries).toEqual({ report: 2 });
      expect(summary.deadLetters).toEqual([]);
      expect(listing(path.join(stateDir, 'lake'))).toEqual(lakeBefore);
      expect(await rowCounts(layout.warehouse)).toEqual(countsBefore);
      expect(contents(layout.results)).toEqual(resultsBefore);
      expect(readFileSync(layout.archive, 'utf8')).toBe(archiveBefore);
      expect(countsBefore.sensor_data).toBeGreaterThan(0);
    },
    SLOW,
  );

  it(
    "lists a run's events with a one-line summary each (etl events)",
    async () => {
      const { code, out } = await stdoutOf(() =>
        eventsCommand(['--state-dir', ranInto, '--run', '2026-11-24', '--json']),
      );
      expect(code).toBe(0);
      const listed = EventsListingSchema.parse(JSON.parse(out)).events;
      expect(listed.every((e) => e.runId === '2026-11-24')).toBe(true);
      expect(listed.map((e) => e.detailType)).toEqual(
        expect.arrayContaining(['PagesPlanned', 'DownloadsDrained', 'EtlDone']),
      );
      expect(listed.find((e) => e.detailType === 'EtlDone')?.summary).toMatch(/^EtlDone: 8 SQL file\(s\)/);
      const text = await stdoutOf(() => eventsCommand(['--state-dir', ranInto, '--detail-type', 'EtlDone']));
      expect(text.out).toMatch(/^2 of \d+ archived event\(s\)/);
      expect(text.out).toMatch(/2026-11-25 +EtlDone: 8 SQL file/);
    },
    SLOW,
  );

  it(
    'replays from the command line to the report only (etl replay --consumer report --json)',
    async () => {
      const stateDir = copyOfRuns();
      const { code, out } = await stdoutOf(() =>
        replayCommand([
          '--state-dir',
          stateDir,
          '--consumer',
          'report',
          '--detail-type',
          'EtlDone',
          '--replay-name',
          'redo-reports',
          '--json',
        ]),
      );
      expect(code).toBe(0);
      expect(JSON.parse(out)).toMatchObject({
        mode: 'local',
        replayName: 'redo-reports',
        selected: 2,
        deliveries: { report: 2 },
        deadLetters: [],
      });
    },
    SLOW,
  );

  it('refuses a consumer nobody declared, naming the ones there are', async () => {
    await expect(
      replayLocally({ stateDir: copyOfRuns(), selection: {}, consumers: ['reportt'], replayName: 'typo' }),
    ).rejects.toThrow('no consumer named "reportt"; consumers: completionTracker, queryRunner, report');
  });
});
