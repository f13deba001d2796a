import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { rawPageKey, rawRunPrefix } from '../../services/shared/lake-keys.js';
import type { SensorRow, VehicleRow } from '../../services/shared/rows.js';

/**
 * A fleet's nights as the API would give them, one after another, with what makes an incremental answer hard:
 * readings recorded days after they were measured (they land in old days' partitions, before, inside or after
 * the readings those days already had), readings the API gives again on the next night, vehicles listed only
 * from a later night (their earlier readings are dropped by the join), a vehicle that changes type, and null
 * values. Deterministic: the same spec gives the same rows.
 */
export interface NightsSpec {
  nights: number;
  vehicles: number;
  readingsPerVehicle: number;
  /** First night's window, YYYY-MM-DD (UTC). */
  firstDay: string;
  /** Rows per raw sensor page. */
  pageSize: number;
  seed: number;
}

export interface Night {
  runId: string;
  vehicles: VehicleRow[];
  /** In page order; page N lands at sensors/run=<runId>/page-0000N.ndjson. */
  sensorPages: SensorRow[][];
}

const DAY_MS = 86_400_000;
const TYPES = ['bus', 'car', 'motorbike', 'truck', 'van'] as const;
const INTERVALS_MS = [30_000, 37_000, 22_000, 40_000, 41_000] as const;
/** The vehicle that is listed as a van, then, from the middle night on, as a truck. */
const TYPE_CHANGER = 4;

/** mulberry32: a small seeded generator, so the same spec gives the same nights. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function vehicleId(index: number): string {
  return `V${String(index).padStart(5, '0')}`;
}

/** Every third vehicle is listed from a later night (up to the sixth); the others from the first. */
function firstListedNight(index: number, nights: number): number {
  return index % 3 === 2 ? Math.min(index % 6, nights - 1) : 0;
}

function listing(spec: NightsSpec, night: number): VehicleRow[] {
  const start = Date.parse(`${spec.firstDay}T00:00:00.000Z`);
  const middle = Math.floor(spec.nights / 2);
  const rows: VehicleRow[] = [];
  for (let index = 0; index < spec.vehicles; index += 1) {
    const listedFrom = firstListedNight(index, spec.nights);
    if (night < listedFrom) continue;
    const changed = index === TYPE_CHANGER && night >= middle;
    rows.push({
      vehicle_id: vehicleId(index),
      vehicle_type: changed ? 'truck' : (TYPES[index % TYPES.length] ?? 'car'),
      created_at: new Date(start + (changed ? middle : listedFrom) * DAY_MS + 1_800_000).toISOString(),
    });
  }
  return rows;
}

/** Readings of one vehicle on one day: a session starting somewhere in the day, at its type's interval. */
function session(
  random: () => number,
  vehicle: number,
  dayStart: number,
  count: number,
  recordedAt?: number,
): SensorRow[] {
  const interval = INTERVALS_MS[vehicle % INTERVALS_MS.length] ?? 30_000;
  const latestStart = Math.max(0, DAY_MS - count * interval - 1_000);
  const from = dayStart + Math.floor(random() * latestStart);
  return Array.from({ length: count }, (_, step) => {
    const timestamp = from + step * interval + Math.round((random() - 0.5) * 800);
    return {
      vehicle_id: vehicleId(vehicle),
      timestamp,
      sensor_value: random() < 0.02 ? null : Math.round(random() * 10_000) / 100,
      created_at: new Date(recordedAt ?? timestamp).toISOString(),
    };
  });
}

/** The nights, in order. Night n's window is firstDay + n. */
export function nightsWithLateReadings(spec: NightsSpec): Night[] {
  const random = seeded(spec.seed);
  const start = Date.parse(`${spec.firstDay}T00:00:00.000Z`);
  const nights: Night[] = [];
  let yesterday: SensorRow[] = [];
  for (let night = 0; night < spec.nights; night += 1) {
    const dayStart = start + night * DAY_MS;
    const recordedAt = dayStart + DAY_MS - 60_000;
    const readings: SensorRow[] = [];
    for (let vehicle = 0; vehicle < spec.vehicles; vehicle += 1) {
      readings.push(...session(random, vehicle, dayStart, spec.readingsPerVehicle));
      // One vehicle in five also sends a few readings measured 1 to 5 days ago (never before the first day).
      if (night > 0 && random() < 0.2) {
        const daysAgo = 1 + Math.floor(random() * Math.min(5, night));
        const late = Math.max(2, Math.floor(spec.readingsPerVehicle / 20));
        readings.push(...session(random, vehicle, dayStart - daysAgo * DAY_MS, late, recordedAt));
      }
    }
    // The API gives a few of yesterday's readings again: they are stored twice, in two runs.
    const repeated = yesterday.filter(() => random() < 0.01);
    readings.push(...repeated);
    yesterday = readings.filter((row) =>
      row.created_at.startsWith(new Date(dayStart).toISOString().slice(0, 10)),
    );
    const pages: SensorRow[][] = [];
    for (let offset = 0; offset < readings.length; offset += spec.pageSize) {
      pages.push(readings.slice(offset, offset + spec.pageSize));
    }
    nights.push({
      runId: new Date(dayStart).toISOString().slice(0, 10),
      vehicles: listing(spec, night),
      sensorPages: pages,
    });
  }
  return nights;
}

/** Lands a night's pages in the raw lake folder at the keys the downloader uses, replacing what was there. */
export async function landNight(rawRoot: string, night: Night): Promise<void> {
  for (const dataset of ['vehicles', 'sensors'] as const) {
    await rm(join(rawRoot, rawRunPrefix(dataset, night.runId)), { recursive: true, force: true });
  }
  const pages: ['vehicles' | 'sensors', number, readonly object[]][] = [
    ['vehicles', 1, night.vehicles],
    ...night.sensorPages.map((rows, index): ['sensors', number, readonly object[]] => [
      'sensors',
      index + 1,
      rows,
    ]),
  ];
  for (const [dataset, page, rows] of pages) {
    const path = join(rawRoot, rawPageKey(dataset, night.runId, page));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
  }
}
