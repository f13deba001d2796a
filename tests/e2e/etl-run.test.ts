import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import * as z from 'zod';
import type { SensorRow, VehicleRow } from '../../services/shared/rows.js';
import { dayWindow } from '../../services/shared/run-identity.js';
import { creationWindow, FleetWorld } from '../../simulator/index.js';
import { expectedAnswer } from '../helpers/expected-answer.js';

const run = promisify(execFile);
const ETL = path.resolve('bin/etl.js');
/** Each `etl run` starts a Node process, the simulator and DuckDB: seconds, not milliseconds. */
const RUN_TIMEOUT_MS = 120_000;
const FLEET = { seed: 7, vehicles: 60, readingsPerVehicle: 400, fleetStart: '2026-11-24' };

const RunOutputSchema = z.object({
  runId: z.string(),
  status: z.enum(['succeeded', 'failed']),
  datasets: z.record(z.string(), z.object({ pages: z.number(), rows: z.number() })),
  lake: z.object({ raw: z.string(), warehouse: z.string() }),
  results: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
  coverage: z.object({ nights: z.number(), firstRun: z.string(), lastRun: z.string() }),
});

async function etlRun(stateDir: string, date: string) {
  const { stdout, stderr } = await run(
    process.execPath,
    [
      ETL,
      'run',
      '--date',
      date,
      '--state-dir',
      stateDir,
      '--vehicles',
      String(FLEET.vehicles),
      '--readings',
      String(FLEET.readingsPerVehicle),
      '--seed',
      String(FLEET.seed),
      '--page-size',
      '5000',
      '--json',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const lastLine = stdout.trim().split('\n').at(-1) ?? '';
  return { output: RunOutputSchema.parse(JSON.parse(lastLine)), stderr };
}

/** Every row the simulator holds for the given nights, straight from the generator (not from the lake). */
function worldRows(days: string[]) {
  const world = new FleetWorld(FLEET);
  const vehicles: VehicleRow[] = [];
  const readings: SensorRow[] = [];
  for (const day of days) {
    const w = dayWindow(day);
    vehicles.push(...world.rows('vehicles', creationWindow(w.from, w.to)));
    readings.push(...world.rows('sensors', creationWindow(w.from, w.to)));
  }
  return { vehicles, readings };
}

async function warehouseCount(warehouse: string, table: string): Promise<number> {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  const reader = await connection.runAndReadAll(
    `SELECT count(*)::INTEGER AS n FROM read_parquet('${warehouse}/${table}/**/*.parquet', hive_partitioning = true)`,
  );
  const n = Number(reader.getRowObjects()[0]?.n);
  connection.closeSync();
  return n;
}

const close = (actual: Record<string, unknown>[], expected: ReturnType<typeof expectedAnswer>) => {
  expect(actual.map((r) => r.vehicle_type)).toEqual(expected.map((r) => r.vehicle_type));
  expected.forEach((row, i) => {
    expect(actual[i]?.vehicles).toBe(row.vehicles);
    expect(actual[i]?.avg_seconds_between_measurements).toBeCloseTo(row.avg_seconds_between_measurements, 9);
  });
};

describe('etl run, end to end on the built-in simulator', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'etl-e2e-'));
  let first: Awaited<ReturnType<typeof etlRun>>;

  beforeAll(async () => {
    first = await etlRun(stateDir, '2026-11-24');
  }, RUN_TIMEOUT_MS);

  it('succeeds and reports pages and rows per dataset', () => {
    const { vehicles, readings } = worldRows(['2026-11-24']);
    expect(first.output.status).toBe('succeeded');
    expect(first.output.runId).toBe('2026-11-24');
    expect(first.output.datasets.vehicles).toEqual({ pages: 1, rows: vehicles.length });
    expect(first.output.datasets.sensors).toEqual({
      pages: Math.ceil(readings.length / 5000),
      rows: readings.length,
    });
    expect(first.output.datasets.sensors?.pages).toBeGreaterThan(1);
  });

  it('shows progress while it works', () => {
    expect(first.stderr).toMatch(/planned sensors: \d+ page/);
    expect(first.stderr).toMatch(/stored sensors page 1:/);
    expect(first.stderr).toMatch(/downloads drained/);
    expect(first.stderr).toMatch(/ran 40_avg_seconds_between_measurements\.sql \(8\/8\)/);
  });

  it('answers what an independent computation over the simulated rows answers', () => {
    const { vehicles, readings } = worldRows(['2026-11-24']);
    close(first.output.results.avg_seconds_between_measurements ?? [], expectedAnswer(vehicles, readings));
  });

  it('writes raw NDJSON at deterministic keys', () => {
    const raw = first.output.lake.raw;
    expect(readdirSync(path.join(raw, 'vehicles', 'run=2026-11-24'))).toEqual(['page-00001.ndjson']);
    const pages = readdirSync(path.join(raw, 'sensors', 'run=2026-11-24'));
    expect(pages[0]).toBe('page-00001.ndjson');
    expect(pages).toHaveLength(first.output.datasets.sensors?.pages ?? -1);
  });

  it('writes Snappy Parquet in Hive-style days=/vehicle_type_key= folders, plain type names as their own keys', async () => {
    const warehouse = first.output.lake.warehouse;
    const days = readdirSync(path.join(warehouse, 'sensor_data'));
    expect(days).toContain('days=2026-11-24');
    expect(days.every((d) => /^days=\d{4}-\d{2}-\d{2}$/.test(d))).toBe(true);
    const types = readdirSync(path.join(warehouse, 'sensor_data', 'days=2026-11-24'));
    expect(types.length).toBeGreaterThan(0);
    expect(types.every((t) => /^vehicle_type_key=[a-z]+$/.test(t))).toBe(true);
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const reader = await connection.runAndReadAll(
      `SELECT DISTINCT compression FROM parquet_metadata('${warehouse}/sensor_data/**/*.parquet')`,
    );
    expect(reader.getRowObjects().map((r) => r.compression)).toEqual(['SNAPPY']);
    connection.closeSync();
  });

  it('stores every reading of a known vehicle once in sensor_data', async () => {
    const { vehicles, readings } = worldRows(['2026-11-24']);
    const known = new Set(vehicles.map((v) => v.vehicle_id));
    expect(await warehouseCount(first.output.lake.warehouse, 'sensor_data')).toBe(
      readings.filter((r) => known.has(r.vehicle_id)).length,
    );
  });

  it('copies every raw reading of the run once into run_sensor_readings, known vehicle or not', async () => {
    const { readings } = worldRows(['2026-11-24']);
    expect(await warehouseCount(first.output.lake.warehouse, 'run_sensor_readings')).toBe(readings.length);
  });

  it(
    'gives the same tables and answer when the same window runs again',
    async () => {
      const before = await warehouseCount(first.output.lake.warehouse, 'sensor_data');
      const copied = await warehouseCount(first.output.lake.warehouse, 'run_sensor_readings');
      const again = await etlRun(stateDir, '2026-11-24');
      expect(again.output.status).toBe('succeeded');
      expect(await warehouseCount(first.output.lake.warehouse, 'sensor_data')).toBe(before);
      // The run's working copy is replaced too, not appended to.
      expect(await warehouseCount(first.output.lake.warehouse, 'run_sensor_readings')).toBe(copied);
      const { vehicles, readings } = worldRows(['2026-11-24']);
      close(again.output.results.avg_seconds_between_measurements ?? [], expectedAnswer(vehicles, readings));
      // The same answer to the last bit: the query adds exact decimals, so no summation order can change it.
      const firstAnswer = first.output.results.avg_seconds_between_measurements ?? [];
      const againAnswer = again.output.results.avg_seconds_between_measurements ?? [];
      expect(againAnswer).toHaveLength(firstAnswer.length);
      firstAnswer.forEach((row, index) => {
        for (const column of ['vehicle_type', 'avg_seconds_between_measurements', 'vehicles']) {
          expect(againAnswer[index]?.[column] === row[column]).toBe(true);
        }
      });
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'accumulates the next night, joining readings to vehicles fetched the night before',
    async () => {
      const next = await etlRun(stateDir, '2026-11-25');
      const { vehicles, readings } = worldRows(['2026-11-24', '2026-11-25']);
      const known = new Set(vehicles.map((v) => v.vehicle_id));
      expect(next.output.status).toBe('succeeded');
      expect(await warehouseCount(first.output.lake.warehouse, 'sensor_data')).toBe(
        readings.filter((r) => known.has(r.vehicle_id)).length,
      );
      expect(await warehouseCount(first.output.lake.warehouse, 'vehicles_data')).toBe(vehicles.length);
      close(next.output.results.avg_seconds_between_measurements ?? [], expectedAnswer(vehicles, readings));
      // The answer is the warehouse's, both nights', and says so.
      expect(first.output.coverage).toEqual({ nights: 1, firstRun: '2026-11-24', lastRun: '2026-11-24' });
      expect(next.output.coverage).toEqual({ nights: 2, firstRun: '2026-11-24', lastRun: '2026-11-25' });
    },
    RUN_TIMEOUT_MS,
  );
});
