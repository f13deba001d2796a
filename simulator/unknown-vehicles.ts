import { Mulberry32, streamKey } from './prng.js';
import { CREATED_DELAY_MIN_MS, CREATED_DELAY_SPREAD_MS, type ReadingColumns } from './vehicle-day-plan.js';
import { DAY_MS, Salt } from './vehicle-roster.js';

/**
 * Readings whose vehicle is not in the fleet, as a real feed has (retired units, test rigs, typos). The ETL must
 * keep them in the raw data and the analytics must not invent a vehicle type for them.
 */
export const UNKNOWN_VEHICLE_IDS = [
  'X999001',
  'X999002',
  'X999003',
  'X999004',
  'X999005',
  'X999006',
  'X999007',
  'X999008',
  'X999009',
] as const;

/** About 0.1% of a day's readings, and at least one on any day the fleet measures anything. */
export function unknownReadingsOnDay(vehiclesExisting: number, readingsPerVehicle: number): number {
  const expected = vehiclesExisting * readingsPerVehicle;
  return expected > 0 ? Math.max(1, Math.round(expected / 1000)) : 0;
}

/** Margin that keeps every unknown reading, and its creation, inside its UTC day. */
const DAY_EDGE_MS = 2_000;

/**
 * Unknown readings of one fleet day, spread evenly over the day in timestamp order. They are created a few
 * hundred milliseconds after they are measured, so each day's window holds that day's unknown readings.
 */
export function generateUnknownDay(
  seed: number,
  fleetStartMs: number,
  day: number,
  count: number,
  into: ReadingColumns,
): void {
  into.reset(count);
  const rng = new Mulberry32(streamKey(seed, Salt.unknownDay, day));
  const from = fleetStartMs + day * DAY_MS + DAY_EDGE_MS;
  const span = DAY_MS - 2 * DAY_EDGE_MS;
  for (let i = 0; i < count; i++) {
    const measured = from + Math.floor(((i + rng.next()) * span) / count);
    into.timestamp[i] = measured;
    into.createdAt[i] = measured + CREATED_DELAY_MIN_MS + rng.below(CREATED_DELAY_SPREAD_MS);
    into.value[i] = Math.round(rng.between(0, 100) * 100) / 100;
    into.source[i] = rng.below(UNKNOWN_VEHICLE_IDS.length);
  }
}
