import type { SensorRow } from '../services/shared/rows.js';
import type { CreationWindow } from './creation-window.js';
import { IsoInstantFormatter } from './iso-instant.js';
import { generateUnknownDay, UNKNOWN_VEHICLE_IDS, unknownReadingsOnDay } from './unknown-vehicles.js';
import {
  creationBounds,
  generateSession,
  MAX_CREATED_DELAY_MS,
  type PlanContext,
  planVehicleDay,
  ReadingColumns,
  SLOT_END_OFFSET_MS,
  SLOT_START_OFFSET_MS,
} from './vehicle-day-plan.js';
import { DAY_MS, SAMPLING_INTERVAL_MS, type VehicleRoster } from './vehicle-roster.js';

/** One generated run of readings of a single source (a vehicle's session, or a day of unknown vehicles). */
interface ReadingBatch {
  columns: ReadingColumns;
  /** The fleet vehicle the readings belong to; undefined for unknown vehicles, named per reading. */
  vehicleId: string | undefined;
}

/**
 * Sensor readings by creation window, in a fixed order: fleet vehicles by index, each vehicle's readings by
 * timestamp, then the unknown vehicles' readings by timestamp. Serving page n must not regenerate the window,
 * so the first request for a window counts each vehicle's rows in it once (a prefix sum, cached); a page then
 * generates only the vehicles its slice overlaps.
 */
export class SensorCatalog {
  /** Insertion-ordered, so the first key is the least recently used. */
  private readonly prefixes = new Map<string, Float64Array>();

  constructor(
    private readonly context: PlanContext,
    private readonly roster: VehicleRoster,
    private readonly maxCachedWindows = 16,
  ) {}

  count(window: CreationWindow): number {
    const prefix = this.prefixOf(window);
    return prefix[prefix.length - 1] ?? 0;
  }

  /** Rows [offset, offset + limit) of the window. Each call owns its buffers: callers may interleave. */
  *rows(window: CreationWindow, offset: number, limit: number): Generator<SensorRow> {
    const prefix = this.prefixOf(window);
    const units = prefix.length - 1;
    let unit = lastUnitStartingAtOrBefore(prefix, offset);
    let skip = offset - (prefix[unit] ?? 0);
    let remaining = Math.min(limit, (prefix[units] ?? 0) - offset);
    const columns = new ReadingColumns();
    const iso = new IsoInstantFormatter();
    const { fromMs, toMs } = window;
    for (; remaining > 0 && unit < units; unit++) {
      if ((prefix[unit + 1] ?? 0) === (prefix[unit] ?? 0)) {
        continue;
      }
      for (const batch of this.batches(unit, units - 1, window, columns)) {
        const { timestamp, createdAt, value, source, length } = batch.columns;
        for (let i = 0; i < length; i++) {
          const created = createdAt[i] ?? Number.NaN;
          if (!(created >= fromMs && created < toMs)) {
            continue;
          }
          if (skip > 0) {
            skip--;
            continue;
          }
          const level = value[i] ?? Number.NaN;
          yield {
            vehicle_id: batch.vehicleId ?? UNKNOWN_VEHICLE_IDS[source[i] ?? 0] ?? UNKNOWN_VEHICLE_IDS[0],
            timestamp: timestamp[i] ?? 0,
            sensor_value: Number.isNaN(level) ? null : level,
            created_at: iso.format(created),
          };
          if (--remaining === 0) {
            return;
          }
        }
      }
      skip = 0;
    }
  }

  private prefixOf(window: CreationWindow): Float64Array {
    const key = `${window.fromMs}/${window.toMs}`;
    const cached = this.prefixes.get(key);
    if (cached) {
      this.prefixes.delete(key);
      this.prefixes.set(key, cached);
      return cached;
    }
    const vehicles = window.fromMs < window.toMs ? this.roster.countCreatedBefore(window.toMs) : 0;
    const units = window.fromMs < window.toMs ? vehicles + 1 : 0;
    const prefix = new Float64Array(units + 1);
    const columns = new ReadingColumns();
    for (let unit = 0; unit < units; unit++) {
      prefix[unit + 1] = (prefix[unit] ?? 0) + this.countUnit(unit, vehicles, window, columns);
    }
    this.prefixes.set(key, prefix);
    for (const oldest of this.prefixes.keys()) {
      if (this.prefixes.size <= this.maxCachedWindows) {
        break;
      }
      this.prefixes.delete(oldest);
    }
    return prefix;
  }

  private countUnit(
    unit: number,
    unknownUnit: number,
    window: CreationWindow,
    columns: ReadingColumns,
  ): number {
    let count = 0;
    for (const batch of this.batches(unit, unknownUnit, window, columns)) {
      const { createdAt, length } = batch.columns;
      for (let i = 0; i < length; i++) {
        const created = createdAt[i] ?? Number.NaN;
        if (created >= window.fromMs && created < window.toMs) {
          count++;
        }
      }
    }
    return count;
  }

  /** Units below `unknownUnit` are fleet vehicles by index; `unknownUnit` holds the unknown vehicles. */
  private batches(
    unit: number,
    unknownUnit: number,
    window: CreationWindow,
    columns: ReadingColumns,
  ): Generator<ReadingBatch> {
    return unit === unknownUnit
      ? this.unknownBatches(window, columns)
      : this.vehicleBatches(unit, window, columns);
  }

  private *vehicleBatches(
    index: number,
    window: CreationWindow,
    columns: ReadingColumns,
  ): Generator<ReadingBatch> {
    const { fleetStartMs } = this.context;
    const intervalMs = SAMPLING_INTERVAL_MS[this.roster.type(index)];
    const vehicleCreatedAt = this.roster.createdAt(index);
    // Only days whose slot, plus the longest creation delay, can reach into the window.
    const firstDay = Math.max(
      this.roster.creationDay(index),
      Math.floor((window.fromMs - fleetStartMs - SLOT_END_OFFSET_MS - MAX_CREATED_DELAY_MS) / DAY_MS),
    );
    const lastDay = Math.floor((window.toMs - fleetStartMs - SLOT_START_OFFSET_MS) / DAY_MS);
    const batch: ReadingBatch = { columns, vehicleId: this.roster.id(index) };
    for (let day = firstDay; day <= lastDay; day++) {
      const sessions = planVehicleDay(this.context, {
        vehicleIndex: index,
        vehicleCreatedAt,
        intervalMs,
        day,
      });
      for (const session of sessions) {
        const bounds = creationBounds(session, intervalMs);
        if (bounds.last < window.fromMs || bounds.first >= window.toMs) {
          continue;
        }
        generateSession(session, intervalMs, columns);
        yield batch;
      }
    }
  }

  private *unknownBatches(window: CreationWindow, columns: ReadingColumns): Generator<ReadingBatch> {
    const { seed, fleetStartMs, readingsPerVehicle } = this.context;
    const firstDay = Math.max(0, Math.floor((window.fromMs - fleetStartMs) / DAY_MS));
    const lastDay = Math.floor((window.toMs - 1 - fleetStartMs) / DAY_MS);
    const batch: ReadingBatch = { columns, vehicleId: undefined };
    for (let day = firstDay; day <= lastDay; day++) {
      const count = unknownReadingsOnDay(this.roster.existingAtEndOfDay(day), readingsPerVehicle);
      if (count > 0) {
        generateUnknownDay(seed, fleetStartMs, day, count, columns);
        yield batch;
      }
    }
  }
}

/** Binary search: the unit whose row range contains `offset` (the last u with prefix[u] <= offset). */
function lastUnitStartingAtOrBefore(prefix: Float64Array, offset: number): number {
  let low = 0;
  let high = prefix.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((prefix[middle] ?? 0) <= offset) {
      low = middle;
    } else {
      high = middle - 1;
    }
  }
  return low;
}
