import type { SensorRow } from '../../../services/shared/rows.js';
import {
  type CreationWindow,
  creationWindow,
  FleetWorld,
  type FleetWorldOptions,
  SAMPLING_INTERVAL_MS,
  VEHICLE_TYPES,
} from '../../../simulator/index.js';

export const DAY_MS = 86_400_000;

export function worldOptions(overrides: Partial<FleetWorldOptions> = {}): FleetWorldOptions {
  return { seed: 11, vehicles: 40, readingsPerVehicle: 60, fleetStart: '2026-03-01', ...overrides };
}

export function world(overrides: Partial<FleetWorldOptions> = {}): FleetWorld {
  return new FleetWorld(worldOptions(overrides));
}

/** The UTC day `offset` days after 2026-03-01 (the default fleet start). */
export function dayWindow(offset: number, start = '2026-03-01'): CreationWindow {
  const from = Date.parse(`${start}T00:00:00.000Z`) + offset * DAY_MS;
  return creationWindow(from, from + DAY_MS);
}

export function daysWindow(firstOffset: number, days: number, start = '2026-03-01'): CreationWindow {
  const from = Date.parse(`${start}T00:00:00.000Z`) + firstOffset * DAY_MS;
  return creationWindow(from, from + days * DAY_MS);
}

/** A reading's identity: a vehicle never measures twice in the same millisecond. */
export function readingKey(row: SensorRow): string {
  return `${row.vehicle_id}@${row.timestamp}`;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** The sampling interval of a vehicle type as the API spells it; 0 for a type the simulator does not know. */
export function samplingIntervalOf(type: string | undefined): number {
  const known = VEHICLE_TYPES.find((t) => t === type);
  return known === undefined ? 0 : SAMPLING_INTERVAL_MS[known];
}
