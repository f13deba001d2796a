import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Dataset } from '../../../events/index.js';
import { rawPageKey } from '../../../services/shared/lake-keys.js';
import type { SensorRow, VehicleRow } from '../../../services/shared/rows.js';

/** mulberry32: a small seeded PRNG, so every run of the suite sees the same jitter. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface RawRun {
  runId: string;
  vehicles: VehicleRow[];
  /** Sensor pages in page order; page N lands at sensors/run=<runId>/page-0000N.ndjson. */
  sensorPages: SensorRow[][];
}

export function vehicle(vehicle_id: string, vehicle_type: string, created_at: string): VehicleRow {
  return { vehicle_id, vehicle_type, created_at };
}

interface SeriesSpec {
  vehicleId: string;
  /** First reading, ISO instant. */
  from: string;
  count: number;
  intervalMs: number;
  /** When the API recorded the readings (ISO); defaults to the reading's own time. */
  createdAt?: string;
  /** Every n-th reading has a null value. */
  nullEvery?: number;
}

/** Readings of one vehicle every `intervalMs`, each moved by up to ±400 ms of jitter. */
export function series(spec: SeriesSpec, random: () => number): SensorRow[] {
  const start = Date.parse(spec.from);
  return Array.from({ length: spec.count }, (_, index) => {
    const timestamp = start + index * spec.intervalMs + Math.round((random() - 0.5) * 800);
    const nullHere = spec.nullEvery !== undefined && index % spec.nullEvery === spec.nullEvery - 1;
    return {
      vehicle_id: spec.vehicleId,
      timestamp,
      sensor_value: nullHere ? null : Math.round(random() * 10_000) / 100,
      created_at: spec.createdAt ?? new Date(timestamp).toISOString(),
    };
  });
}

/** Night one: the window of 2024-03-10. */
export function firstRun(): RawRun {
  const random = seededRandom(20240310);
  const created = '2024-03-10T00:30:00.000Z';
  const readings = [
    ...series(
      { vehicleId: 'truck-1', from: '2024-03-10T08:00:00.000Z', count: 20, intervalMs: 60_000, nullEvery: 5 },
      random,
    ),
    ...series(
      { vehicleId: 'truck-2', from: '2024-03-10T09:00:00.000Z', count: 15, intervalMs: 60_000 },
      random,
    ),
    ...series(
      { vehicleId: 'van-1', from: '2024-03-10T10:00:00.000Z', count: 25, intervalMs: 45_000, nullEvery: 7 },
      random,
    ),
    // Runs into midnight: the readings after 00:00 are recorded on the 11th and fetched by night two.
    ...series(
      { vehicleId: 'bike-1', from: '2024-03-10T23:55:00.000Z', count: 10, intervalMs: 30_000 },
      random,
    ),
    // Measured on the 9th, recorded on the 10th: they belong to the partition of the 9th.
    ...series(
      {
        vehicleId: 'van-1',
        from: '2024-03-09T22:00:00.000Z',
        count: 3,
        intervalMs: 45_000,
        createdAt: '2024-03-10T06:00:00.000Z',
      },
      random,
    ),
    // Nobody lists ghost-1: its readings are dropped by the join.
    ...series(
      { vehicleId: 'ghost-1', from: '2024-03-10T12:00:00.000Z', count: 5, intervalMs: 10_000 },
      random,
    ),
  ];
  return {
    runId: '2024-03-10',
    vehicles: [
      vehicle('truck-1', 'truck', created),
      vehicle('truck-2', 'truck', created),
      vehicle('van-1', 'van', created),
      vehicle('bike-1', 'bike', created),
    ],
    sensorPages: [readings.slice(0, 40), readings.slice(40)],
  };
}

/** Night two: the window of 2024-03-11; two new vehicles, readings of night one's vehicles. */
export function secondRun(): RawRun {
  const random = seededRandom(20240311);
  const created = '2024-03-11T00:30:00.000Z';
  const readings = [
    ...series(
      { vehicleId: 'bike-1', from: '2024-03-11T00:00:10.000Z', count: 10, intervalMs: 30_000 },
      random,
    ),
    ...series(
      { vehicleId: 'truck-1', from: '2024-03-11T07:00:00.000Z', count: 12, intervalMs: 60_000 },
      random,
    ),
    ...series(
      { vehicleId: 'van-2', from: '2024-03-11T11:00:00.000Z', count: 8, intervalMs: 45_000, nullEvery: 3 },
      random,
    ),
    ...series(
      { vehicleId: 'car-1', from: '2024-03-11T13:00:00.000Z', count: 30, intervalMs: 20_000 },
      random,
    ),
    // truck-2 measured on the 10th between its own readings, recorded on the 11th.
    ...series(
      {
        vehicleId: 'truck-2',
        from: '2024-03-10T09:00:30.000Z',
        count: 1,
        intervalMs: 1,
        createdAt: '2024-03-11T02:00:00.000Z',
      },
      random,
    ),
    ...series(
      { vehicleId: 'ghost-2', from: '2024-03-11T12:00:00.000Z', count: 3, intervalMs: 10_000 },
      random,
    ),
  ];
  return {
    runId: '2024-03-11',
    vehicles: [vehicle('van-2', 'van', created), vehicle('car-1', 'car', created)],
    sensorPages: [readings],
  };
}

/** Lands a run's pages in the raw lake folder, at the keys the downloader uses. */
export async function writeRawRun(rawRoot: string, run: RawRun): Promise<void> {
  const pages: [Dataset, number, readonly object[]][] = [
    ['vehicles', 1, run.vehicles],
    ...run.sensorPages.map((rows, index): [Dataset, number, readonly object[]] => [
      'sensors',
      index + 1,
      rows,
    ]),
  ];
  for (const [dataset, page, rows] of pages) {
    const path = join(rawRoot, rawPageKey(dataset, run.runId, page));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
  }
}

export interface TypeAverage {
  vehicle_type: string;
  avg_seconds_between_measurements: number;
  vehicles: number;
}

/** The readings the warehouse should hold after these runs: those whose vehicle was known by their run. */
export function expectedSensorRows(
  runs: readonly RawRun[],
): (SensorRow & { vehicle_type: string; days: string })[] {
  const known = new Map<string, string>();
  return runs.flatMap((run) => {
    for (const v of run.vehicles) {
      known.set(v.vehicle_id, v.vehicle_type);
    }
    return run.sensorPages.flat().flatMap((row) => {
      const type = known.get(row.vehicle_id);
      return type === undefined ? [] : [{ ...row, vehicle_type: type, days: utcDay(row.timestamp) }];
    });
  });
}

/**
 * The analytics answer computed in plain TypeScript, independently of any SQL: per UTC day and vehicle, the
 * gaps between consecutive non-null readings; each vehicle's mean gap; the mean over the vehicles of a type.
 */
export function expectedAverages(runs: readonly RawRun[]): TypeAverage[] {
  const byVehicleDay = new Map<string, { vehicle: string; type: string; times: number[] }>();
  for (const row of expectedSensorRows(runs)) {
    if (row.sensor_value === null) {
      continue;
    }
    const key = `${row.vehicle_id}|${row.vehicle_type}|${row.days}`;
    const entry = byVehicleDay.get(key) ?? { vehicle: row.vehicle_id, type: row.vehicle_type, times: [] };
    entry.times.push(row.timestamp);
    byVehicleDay.set(key, entry);
  }
  // A vehicle that changed type between nights counts once under each type, as the SQL groups by both.
  const gapsByVehicle = new Map<string, { type: string; gaps: number[] }>();
  for (const { vehicle, type, times } of byVehicleDay.values()) {
    const sorted = [...times].sort((a, b) => a - b);
    const gaps = sorted.slice(1).map((time, index) => (time - (sorted[index] ?? time)) / 1000);
    const entry = gapsByVehicle.get(`${type}|${vehicle}`) ?? { type, gaps: [] };
    entry.gaps.push(...gaps);
    gapsByVehicle.set(`${type}|${vehicle}`, entry);
  }
  const meansByType = new Map<string, number[]>();
  for (const { type, gaps } of gapsByVehicle.values()) {
    if (gaps.length > 0) {
      meansByType.set(type, [...(meansByType.get(type) ?? []), mean(gaps)]);
    }
  }
  return [...meansByType.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([vehicle_type, means]) => ({
      vehicle_type,
      avg_seconds_between_measurements: mean(means),
      vehicles: means.length,
    }));
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function utcDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}
