import * as z from 'zod';
import type { Dataset } from '../events/index.js';
import type { SensorRow, VehicleRow } from '../services/shared/rows.js';
import { parseDay } from '../services/shared/run-identity.js';
import type { CreationWindow } from './creation-window.js';
import { SensorCatalog } from './sensor-catalog.js';
import { VehicleRoster } from './vehicle-roster.js';

function isCalendarDay(day: string): boolean {
  try {
    parseDay(day);
    return true;
  } catch {
    return false;
  }
}

export const FleetWorldOptionsSchema = z.object({
  /** Same seed, same options, same window: byte-identical rows. */
  seed: z.number().int(),
  /** Vehicles created during the first day; 2% of this many join on each later day. */
  vehicles: z.number().int().min(0).max(10_000_000),
  /** Readings a vehicle measures on a full day (about: ±10%, capped by what its sampling interval allows). */
  readingsPerVehicle: z.number().int().min(0).max(100_000),
  /** The fleet's first UTC day, YYYY-MM-DD; nothing exists before it. */
  fleetStart: z.string().refine(isCalendarDay, 'fleetStart must be a calendar date (YYYY-MM-DD)'),
});
export type FleetWorldOptions = z.infer<typeof FleetWorldOptionsSchema>;

/** The fleet `etl run` and `etl twin run` simulate unless told otherwise (the fleet's first day is the first night). */
export const DEFAULT_FLEET = { seed: 42, vehicles: 200, readingsPerVehicle: 1_000 } as const;

export type FleetRow = VehicleRow | SensorRow;

/**
 * The simulated fleet, a pure function of its options: rows are computed on demand, never stored, so a day of
 * ten million readings costs no memory until a page of it is asked for.
 */
export class FleetWorld {
  readonly options: FleetWorldOptions;
  private readonly roster: VehicleRoster;
  private readonly sensors: SensorCatalog;

  constructor(options: FleetWorldOptions) {
    this.options = FleetWorldOptionsSchema.parse(options);
    const fleetStartMs = parseDay(this.options.fleetStart).getTime();
    this.roster = new VehicleRoster(this.options.seed, this.options.vehicles, fleetStartMs);
    this.sensors = new SensorCatalog(
      { seed: this.options.seed, readingsPerVehicle: this.options.readingsPerVehicle, fleetStartMs },
      this.roster,
    );
  }

  /** Rows of the dataset created in the window. The first call for a sensor window counts it (then cached). */
  count(dataset: Dataset, window: CreationWindow): number {
    if (dataset === 'sensors') {
      return this.sensors.count(window);
    }
    const { first, end } = this.vehicleRange(window);
    return end - first;
  }

  /** Rows [offset, offset + limit) of the window in the API's stable order, generated lazily. */
  rows(dataset: 'vehicles', window: CreationWindow, offset?: number, limit?: number): Generator<VehicleRow>;
  rows(dataset: 'sensors', window: CreationWindow, offset?: number, limit?: number): Generator<SensorRow>;
  rows(dataset: Dataset, window: CreationWindow, offset?: number, limit?: number): Generator<FleetRow>;
  rows(
    dataset: Dataset,
    window: CreationWindow,
    offset = 0,
    limit = Number.POSITIVE_INFINITY,
  ): Generator<FleetRow> {
    return dataset === 'sensors'
      ? this.sensors.rows(window, offset, limit)
      : this.vehicleRows(window, offset, limit);
  }

  private *vehicleRows(window: CreationWindow, offset: number, limit: number): Generator<VehicleRow> {
    const { first, end } = this.vehicleRange(window);
    const stop = Math.min(end, first + offset + limit);
    for (let index = first + offset; index < stop; index++) {
      yield {
        vehicle_id: this.roster.id(index),
        vehicle_type: this.roster.type(index),
        created_at: new Date(this.roster.createdAt(index)).toISOString(),
      };
    }
  }

  /** Vehicles are ordered by creation, so a window's vehicles are one range of indexes. */
  private vehicleRange(window: CreationWindow): { first: number; end: number } {
    if (window.fromMs >= window.toMs) {
      return { first: 0, end: 0 };
    }
    return {
      first: this.roster.countCreatedBefore(window.fromMs),
      end: this.roster.countCreatedBefore(window.toMs),
    };
  }
}
