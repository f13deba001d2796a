// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${database} is the SQL placeholder syntax, not a template.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { partitionKeyOf } from '../../services/shared/lake-keys.js';
import { AWKWARD_VEHICLE_TYPES, SAFE_PARTITION_KEY } from '../helpers/awkward-vehicle-types.js';
import { type EtlOutcome, lastJsonLine, runEtl } from '../helpers/etl-process.js';
import { answerTokenRequest, sendJson, serveOnLoopback } from '../helpers/json-api.js';

/**
 * `etl run` against an API whose vehicle types are everything a partition folder cannot hold (NULL in any case,
 * __HIVE_DEFAULT_PARTITION__, 300 CJK characters, emoji, `/../`, `%`, `=`, types differing by case, control and
 * invisible characters): each comes back in the answer exactly as sent, its own group with its own average
 * (docs/decisions/0089). A type that is not text at all (a lone surrogate) is quarantined by the row check, not
 * discovered by the engine, and the rest of the page is stored.
 */
const NIGHT = '2026-11-24';
const DAY_START = Date.parse(`${NIGHT}T00:00:00.000Z`);
const LONE_SURROGATE_TYPE = 'truck \ud800';
const iso = (ms: number) => new Date(ms).toISOString();

const VEHICLES = [
  ...AWKWARD_VEHICLE_TYPES.map((type, i) => ({
    vehicle_id: `v${i}`,
    vehicle_type: type,
    created_at: iso(DAY_START + 1_000 + i),
  })),
  { vehicle_id: 'lone', vehicle_type: LONE_SURROGATE_TYPE, created_at: iso(DAY_START + 900) },
];
/** Three readings a vehicle, (index + 1) minutes apart: each type's average is (index + 1) × 60 seconds. */
const READINGS = VEHICLES.flatMap(({ vehicle_id }, i) =>
  [0, 1, 2].map((k) => {
    const timestamp = DAY_START + 3_600_000 + k * 60_000 * (i + 1);
    return { vehicle_id, timestamp, sensor_value: k + 0.5, created_at: iso(timestamp) };
  }),
);

async function startApi() {
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/token') return answerTokenRequest(request, response, 'types-token');
    if (request.headers.authorization !== 'Bearer types-token') return sendJson(response, 401, {});
    const rows: readonly unknown[] = url.pathname === '/v1/vehicles' ? VEHICLES : READINGS;
    const page = Number(url.searchParams.get('page'));
    const size = Number(url.searchParams.get('pageSize'));
    // JSON.stringify writes the lone surrogate as the escape \ud800, as an API would.
    sendJson(response, 200, {
      data: rows.slice((page - 1) * size, page * size),
      page,
      total_pages: Math.ceil(rows.length / size),
    });
  };
  return serveOnLoopback(handle, 180_000);
}

const RunJsonSchema = z.object({
  status: z.literal('succeeded'),
  datasets: z.record(z.string(), z.object({ pages: z.number(), rows: z.number() })),
  unknownVehicles: z.object({ unknownVehicleReadings: z.number(), unknownVehicles: z.number() }),
  lake: z.object({ raw: z.string(), warehouse: z.string() }),
  results: z.object({
    avg_seconds_between_measurements: z.array(
      z.object({
        vehicle_type: z.string(),
        avg_seconds_between_measurements: z.number(),
        vehicles: z.number(),
      }),
    ),
  }),
});

const SqlJsonSchema = z.object({
  rows: z.array(z.object({ vehicle_id: z.string(), vehicle_type: z.string() })),
});

describe('etl run with vehicle types no folder name could hold', () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  let run: EtlOutcome;
  let dir: string;
  let stateDir: string;

  beforeAll(async () => {
    api = await startApi();
    dir = mkdtempSync(path.join(tmpdir(), 'fleet-etl-types-'));
    stateDir = path.join(dir, 'state');
    const config = path.join(dir, 'source.json');
    writeFileSync(
      config,
      JSON.stringify({
        baseUrl: api.url,
        auth: { tokenUrl: '/token', clientId: 'types', clientSecretName: 'types-secret' },
        // One bad vehicle among 40: over the default 1% share, which would fail the page.
        rows: { invalidRows: { action: 'quarantine', maxShare: 0.05 } },
        retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20, maxElapsedMs: 1_000 },
        datasets: {
          vehicles: { endpoint: '/v1/vehicles', pageSize: 100 },
          sensors: { endpoint: '/v1/sensors', pageSize: 50 },
        },
      }),
    );
    run = await runEtl(['run', '--date', NIGHT, '--source', config, '--state-dir', stateDir, '--json'], {
      env: { ...process.env, FLEET_ETL_SECRET_TYPES_SECRET: 'types-secret' },
      timeoutMs: 170_000,
    });
  }, 180_000);

  afterAll(async () => {
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers for every type exactly as the API wrote it, each its own group with its own average', () => {
    expect({ exitCode: run.exitCode, stderr: run.exitCode === 0 ? '' : run.stderr }).toEqual({
      exitCode: 0,
      stderr: '',
    });
    const output = RunJsonSchema.parse(lastJsonLine(run.stdout));
    const answer = output.results.avg_seconds_between_measurements;
    expect(
      answer.map((row) => [row.vehicle_type, row.avg_seconds_between_measurements, row.vehicles]),
    ).toEqual(expect.arrayContaining(AWKWARD_VEHICLE_TYPES.map((type, i) => [type, 60 * (i + 1), 1])));
    expect(answer).toHaveLength(AWKWARD_VEHICLE_TYPES.length);
    expect(output.datasets.vehicles?.rows).toBe(AWKWARD_VEHICLE_TYPES.length);
    // The quarantined vehicle's readings have no vehicle to join: dropped, and counted as such.
    expect(output.unknownVehicles).toEqual({ unknownVehicleReadings: 3, unknownVehicles: 1 });
  });

  it('quarantines only the type that is not text, with the reason', () => {
    const folder = path.join(stateDir, 'lake', 'raw', 'rejected', 'vehicles', `run=${NIGHT}`);
    const rejected = readdirSync(folder).flatMap((file) =>
      readFileSync(path.join(folder, file), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { reason: string; row: unknown }),
    );
    expect(rejected).toEqual([
      expect.objectContaining({
        reason: expect.stringContaining('vehicle_type: is not valid Unicode text (a lone surrogate)'),
      }),
    ]);
  });

  it('stores every type as data under a folder named after its safe key', async () => {
    const warehouse = path.join(stateDir, 'lake', 'warehouse');
    const folders = readdirSync(path.join(warehouse, 'vehicles_data')).filter(
      (name) => !name.startsWith('.'),
    );
    expect(folders.sort()).toEqual(
      AWKWARD_VEHICLE_TYPES.map((type) => `vehicle_type_key=${partitionKeyOf(type)}`).sort(),
    );
    for (const folder of folders)
      expect(folder.slice('vehicle_type_key='.length)).toMatch(SAFE_PARTITION_KEY);

    const sql = await runEtl(
      [
        'sql',
        '--state-dir',
        stateDir,
        '--json',
        'SELECT vehicle_id, vehicle_type FROM ${database}.vehicles_data ORDER BY vehicle_id',
      ],
      { timeoutMs: 60_000 },
    );
    expect(sql.exitCode).toBe(0);
    const stored = SqlJsonSchema.parse(lastJsonLine(sql.stdout)).rows;
    expect(Object.fromEntries(stored.map((row) => [row.vehicle_id, row.vehicle_type]))).toEqual(
      Object.fromEntries(AWKWARD_VEHICLE_TYPES.map((type, i) => [`v${i}`, type])),
    );
  }, 60_000);

  it('prints a table of them one line a type, control and invisible characters escaped', async () => {
    const sql = await runEtl(
      ['sql', '--state-dir', stateDir, 'SELECT DISTINCT vehicle_type FROM ${database}.vehicles_data'],
      { timeoutMs: 60_000 },
    );
    expect(sql.exitCode).toBe(0);
    const printed = sql.stdout.trimEnd().split('\n');
    expect(printed).toHaveLength(2 + AWKWARD_VEHICLE_TYPES.length);
    expect(printed).toContainEqual('line\\nbreak');
    expect(printed).toContainEqual(expect.stringMatching(/^nul\\u0000char */));
    expect(printed).toContainEqual(expect.stringMatching(/^\\ufeffbom */));
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may reach the terminal.
    expect(sql.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e\ufeff]/);
  }, 60_000);
});

const SimulatedRunSchema = z.object({
  status: z.literal('succeeded'),
  coverage: z.object({ nights: z.number() }),
  results: z.object({ avg_seconds_between_measurements: z.array(z.record(z.string(), z.unknown())) }),
});

describe('etl run on a state folder built before vehicle types were kept as data', () => {
  const FLEET = ['--vehicles', '20', '--readings', '40', '--seed', '9'];
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fleet-etl-types-migrated-'));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('moves its tables when it opens the folder, says so, and answers as a new folder does after the same nights', async () => {
    // The SQL of before the change: today's files, 20 and 30 as they were.
    const before = path.join(dir, 'queries-before-0089');
    cpSync(path.resolve('queries'), before, { recursive: true });
    cpSync(path.resolve('tests/helpers/queries-before-0089'), before, { recursive: true });
    const old = path.join(dir, 'old');
    const fresh = path.join(dir, 'fresh');
    const night = (stateDir: string, date: string, sql = 'bundled') =>
      runEtl(['run', '--date', date, '--state-dir', stateDir, '--sql-source', sql, ...FLEET, '--json'], {
        timeoutMs: 120_000,
      });

    expect((await night(old, '2026-11-23', before)).exitCode).toBe(0);
    expect(readdirSync(path.join(old, 'lake', 'warehouse', 'vehicles_data'))).toContain('vehicle_type=bus');
    const moved = await night(old, '2026-11-24');
    expect(moved.exitCode).toBe(0);
    expect(moved.stderr).toMatch(
      /^etl: moved fleet_etl\.vehicles_data to its partitions by vehicle_type_key, vehicle_type kept as data \(docs\/decisions\/0089\): \d+ Parquet file\(s\) rewritten/m,
    );
    expect(moved.stderr).toMatch(/^etl: moved fleet_etl\.sensor_data to its partitions by vehicle_type_key/m);
    expect(readdirSync(path.join(old, 'lake', 'warehouse', 'vehicles_data')).sort()).toEqual([
      'vehicle_type_key=bus',
      'vehicle_type_key=car',
      'vehicle_type_key=motorbike',
      'vehicle_type_key=truck',
      'vehicle_type_key=van',
    ]);

    expect((await night(fresh, '2026-11-23')).exitCode).toBe(0);
    const reference = SimulatedRunSchema.parse(lastJsonLine((await night(fresh, '2026-11-24')).stdout));
    const migrated = SimulatedRunSchema.parse(lastJsonLine(moved.stdout));
    expect(migrated.coverage.nights).toBe(2);
    expect(migrated.results).toEqual(reference.results);
  }, 300_000);
});
