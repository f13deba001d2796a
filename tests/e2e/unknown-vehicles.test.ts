import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { type EtlOutcome, lastJsonLine, runEtl } from '../helpers/etl-process.js';
import { answerTokenRequest, sendJson, serveOnLoopback } from '../helpers/json-api.js';

/**
 * Readings the sensor join drops because their vehicle is unknown are counted per run (summary, --json, EtlDone)
 * and warned about above 1%; a first run against a fleet that exists already fetches the vehicles whole when the
 * source says `snapshot: "first-night"` (or every night with `every-night`). The API is a server of this test's
 * own, in the seed's shape, in another process than `etl`.
 */

const NIGHTS = ['2026-11-24', '2026-11-25'] as const;
const RUN_TIMEOUT_MS = 120_000;
const SECRET_ENV = { ...process.env, FLEET_ETL_SECRET_FLEET_SECRET: 'fleet-secret' };
const READINGS_PER_VEHICLE = 20;

/** Ten vehicles of the fleet created long before the first run, one created on the first night. */
const VEHICLES = [
  ...Array.from({ length: 10 }, (_, i) => ({
    vehicle_id: `old-${i}`,
    vehicle_type: i % 2 === 0 ? 'van' : 'bus',
    created_at: '2026-11-01T08:00:00.000Z',
  })),
  { vehicle_id: 'new-0', vehicle_type: 'car', created_at: '2026-11-24T10:00:00.000Z' },
];

/** Per night, READINGS_PER_VEHICLE readings of every vehicle, and one of a vehicle the API never lists. */
const READINGS = NIGHTS.flatMap((night) => [
  ...VEHICLES.flatMap((vehicle, v) =>
    Array.from({ length: READINGS_PER_VEHICLE }, (_, i) => {
      const time = Date.parse(`${night}T12:00:00.000Z`) + v * 1_000 + i * 60_000;
      return {
        vehicle_id: vehicle.vehicle_id,
        timestamp: time,
        sensor_value: i,
        created_at: new Date(time).toISOString(),
      };
    }),
  ),
  {
    vehicle_id: 'ghost',
    timestamp: Date.parse(`${night}T13:00:00.000Z`),
    sensor_value: 1,
    created_at: `${night}T13:00:00.000Z`,
  },
]);

/** The seed's API shape; vehicles without date filters are the whole list. Records each vehicles query. */
async function startFleetApi() {
  const vehicleQueries: string[] = [];
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/oauth/token') {
      answerTokenRequest(request, response, 'fleet-token');
      return;
    }
    if (request.headers.authorization !== 'Bearer fleet-token') return sendJson(response, 401, {});
    const q = url.searchParams;
    const from = q.get('fromCreationDate');
    const to = q.get('toCreationDate');
    if (url.pathname === '/v1/vehicles') vehicleQueries.push(from === null ? 'all' : `${from}..${to}`);
    if (url.pathname === '/v1/sensors' && (from === null || to === null)) {
      return sendJson(response, 400, { error: 'readings need fromCreationDate and toCreationDate' });
    }
    const rows: readonly { created_at: string }[] = url.pathname === '/v1/vehicles' ? VEHICLES : READINGS;
    const selected =
      from === null || to === null
        ? rows
        : rows.filter((row) => row.created_at >= from && row.created_at < to);
    const page = Number(q.get('page'));
    const size = Number(q.get('pageSize'));
    const data = selected.slice((page - 1) * size, page * size);
    sendJson(response, 200, { data, page, total_pages: Math.max(1, Math.ceil(selected.length / size)) });
  };
  const server = await serveOnLoopback(handle, 180_000);
  return { ...server, vehicleQueries };
}

type Snapshot = 'never' | 'first-night' | 'every-night';

function writeConfig(dir: string, baseUrl: string, snapshot: Snapshot): string {
  const file = path.join(dir, `source-${snapshot}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      baseUrl,
      auth: { tokenUrl: '/oauth/token', clientId: 'fleet', clientSecretName: 'fleet-secret' },
      retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20, maxElapsedMs: 1_000 },
      datasets: {
        vehicles: { endpoint: '/v1/vehicles', pageSize: 4, snapshot },
        sensors: { endpoint: '/v1/sensors', pageSize: 100 },
      },
    }),
  );
  return file;
}

const RunJsonSchema = z.object({
  status: z.literal('succeeded'),
  unknownVehicles: z.object({
    readings: z.number(),
    unknownVehicleReadings: z.number(),
    unknownVehicles: z.number(),
  }),
});

const perNight = VEHICLES.length * READINGS_PER_VEHICLE + 1;
const WARNING = /WARNING: more than 1\.0% of the readings belong to vehicles fetched on no night so far/;

describe('readings of unknown vehicles, two nights against a fleet that existed before the first run', () => {
  let api: Awaited<ReturnType<typeof startFleetApi>>;
  const runs = new Map<Snapshot, { outcomes: EtlOutcome[]; vehicleQueries: string[] }>();

  beforeAll(async () => {
    api = await startFleetApi();
    for (const snapshot of ['never', 'first-night', 'every-night'] as const) {
      const dir = mkdtempSync(path.join(tmpdir(), `fleet-etl-unknown-${snapshot}-`));
      const config = writeConfig(dir, api.url, snapshot);
      const before = api.vehicleQueries.length;
      const outcomes: EtlOutcome[] = [];
      for (const night of NIGHTS) {
        outcomes.push(
          await runEtl(
            ['run', '--date', night, '--source', config, '--state-dir', path.join(dir, 'state'), '--json'],
            {
              env: SECRET_ENV,
              timeoutMs: RUN_TIMEOUT_MS,
            },
          ),
        );
      }
      runs.set(snapshot, { outcomes, vehicleQueries: api.vehicleQueries.slice(before) });
    }
  }, 6 * RUN_TIMEOUT_MS);

  afterAll(() => api?.close());

  const json = (snapshot: Snapshot, night: number) =>
    RunJsonSchema.parse(lastJsonLine(runs.get(snapshot)?.outcomes[night]?.stdout ?? ''));

  it('without a snapshot: counts the readings the join dropped, prints them and warns above 1%', () => {
    const outcomes = runs.get('never')?.outcomes ?? [];
    expect(outcomes.map((o) => o.exitCode)).toEqual([0, 0]);
    // The ten vehicles created before the first night are never fetched: their readings are all dropped.
    const dropped = 10 * READINGS_PER_VEHICLE + 1;
    for (const night of [0, 1]) {
      expect(json('never', night).unknownVehicles).toEqual({
        readings: perNight,
        unknownVehicleReadings: dropped,
        unknownVehicles: 11,
      });
      expect(outcomes[night]?.stderr).toContain(
        `readings of vehicles not in vehicles_data, dropped by the join: ${dropped} of ${perNight}`,
      );
      expect(outcomes[night]?.stderr).toMatch(WARNING);
    }
    expect(runs.get('never')?.vehicleQueries.every((q) => q !== 'all')).toBe(true);
  });

  it('with snapshot "first-night": the first night fetches every vehicle, the next by date; only the unlisted one is dropped', () => {
    const run = runs.get('first-night');
    expect(run?.outcomes.map((o) => o.exitCode)).toEqual([0, 0]);
    // Three pages of four vehicles on the first night (planning reads page 1 twice), then one dated page.
    expect(run?.vehicleQueries).toEqual([
      'all',
      'all',
      'all',
      'all',
      '2026-11-25T00:00:00.000Z..2026-11-26T00:00:00.000Z',
      '2026-11-25T00:00:00.000Z..2026-11-26T00:00:00.000Z',
    ]);
    for (const night of [0, 1]) {
      expect(json('first-night', night).unknownVehicles).toEqual({
        readings: perNight,
        unknownVehicleReadings: 1,
        unknownVehicles: 1,
      });
      expect(run?.outcomes[night]?.stderr).not.toMatch(WARNING);
    }
  });

  it('with snapshot "every-night": every night fetches every vehicle', () => {
    const run = runs.get('every-night');
    expect(run?.outcomes.map((o) => o.exitCode)).toEqual([0, 0]);
    expect(run?.vehicleQueries.every((q) => q === 'all')).toBe(true);
    expect(json('every-night', 1).unknownVehicles.unknownVehicleReadings).toBe(1);
  });
});
