import { streamKey, unitFloat } from './prng.js';

export const DAY_MS = 86_400_000;

export const VEHICLE_TYPES = ['motorbike', 'bus', 'car', 'van', 'truck'] as const;
export type VehicleType = (typeof VEHICLE_TYPES)[number];

/** Each type samples at its own interval, so the per-type average gap between readings tells types apart. */
export const SAMPLING_INTERVAL_MS: Readonly<Record<VehicleType, number>> = {
  motorbike: 5_000,
  bus: 10_000,
  car: 15_000,
  van: 20_000,
  truck: 30_000,
};

/** Salts keep the streams of different facts about the same vehicle independent. */
export const Salt = { vehicleType: 1, vehicleCreated: 2, dayPlan: 3, session: 4, unknownDay: 5 } as const;

/** Every day after the first, 2% of the initial fleet joins: 1 vehicle in 50. */
const JOINING_DIVISOR = 50;

/**
 * The fleet: `initial` vehicles created during the first UTC day, then 2% of that many joining each day. A
 * vehicle's index orders it by creation time, so "vehicles created in a window" is a range of indexes found by
 * binary search, and any vehicle's facts are computed from its index alone.
 */
export class VehicleRoster {
  constructor(
    private readonly seed: number,
    private readonly initial: number,
    /** 00:00 UTC of the fleet's first day. */
    readonly fleetStartMs: number,
  ) {}

  /** Vehicles created by the end of fleet day `day` (0 = the first day); joiners accumulate without rounding drift. */
  existingAtEndOfDay(day: number): number {
    if (day < 0) {
      return 0;
    }
    return this.initial + Math.floor((day * this.initial) / JOINING_DIVISOR);
  }

  /** The fleet day (0-based) a vehicle was created on. */
  creationDay(index: number): number {
    if (index < this.initial) {
      return 0;
    }
    // Smallest day whose end-of-day count exceeds the index; the estimate is exact but float division is
    // checked rather than trusted.
    let day = Math.max(1, Math.ceil(((index - this.initial + 1) * JOINING_DIVISOR) / this.initial));
    while (day > 1 && this.existingAtEndOfDay(day - 1) > index) {
      day -= 1;
    }
    while (this.existingAtEndOfDay(day) <= index) {
      day += 1;
    }
    return day;
  }

  /** Creation instant (epoch ms): the day's vehicles are spread evenly over it, each jittered inside its slot. */
  createdAt(index: number): number {
    const day = this.creationDay(index);
    const first = this.existingAtEndOfDay(day - 1);
    const joining = this.existingAtEndOfDay(day) - first;
    const position = index - first + unitFloat(streamKey(this.seed, Salt.vehicleCreated, index));
    return this.fleetStartMs + day * DAY_MS + Math.floor((position * DAY_MS) / joining);
  }

  type(index: number): VehicleType {
    const key = streamKey(this.seed, Salt.vehicleType, index);
    return VEHICLE_TYPES[key % VEHICLE_TYPES.length] ?? 'car';
  }

  id(index: number): string {
    return `V${String(index + 1).padStart(6, '0')}`;
  }

  /** How many vehicles were created before `instantMs`: indexes below it are exactly those vehicles. */
  countCreatedBefore(instantMs: number): number {
    if (instantMs <= this.fleetStartMs || this.initial === 0) {
      return 0;
    }
    const lastDay = Math.floor((instantMs - 1 - this.fleetStartMs) / DAY_MS);
    let low = this.existingAtEndOfDay(lastDay - 1);
    let high = this.existingAtEndOfDay(lastDay);
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (this.createdAt(middle) < instantMs) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }
}
