import { Mulberry32, streamKey } from './prng.js';
import { DAY_MS, Salt } from './vehicle-roster.js';

const HOUR_MS = 3_600_000;

/**
 * Day d's readings are measured in [d 06:00, d+1 06:00) UTC. Shifting the slot past midnight lets late sessions
 * cross into the next day while slots of consecutive days never overlap, so a vehicle's readings stay in
 * timestamp order when its days are concatenated.
 */
export const SLOT_START_OFFSET_MS = 6 * HOUR_MS;
export const SLOT_END_OFFSET_MS = SLOT_START_OFFSET_MS + DAY_MS;
/** Keeps jittered readings inside the slot. */
const SLOT_EDGE_MS = 1_000;
/** A vehicle starts measuring a minute after it is registered. */
const FIRST_READING_DELAY_MS = 60_000;
/** Sessions fill at most this share of a day, leaving room for gaps between them. */
const MAX_BUSY_SHARE = 0.75;
/** Share of vehicle-days whose last session is placed across midnight UTC. */
const OVERNIGHT_SHARE = 0.3;

export const JITTER_MS = 250;
const NULL_VALUE_SHARE = 0.02;
const LATE_CREATED_SHARE = 0.01;
/** A normal reading reaches the API this long after it was measured: [100, 900) ms. */
export const CREATED_DELAY_MIN_MS = 100;
export const CREATED_DELAY_SPREAD_MS = 800;
/** A late reading reaches the API a day and [1, 120) minutes after it was measured. */
const LATE_DELAY_MIN_MS = DAY_MS + 60_000;
const LATE_DELAY_SPREAD_MS = 119 * 60_000;
/** No reading is created later than this after it was measured. */
export const MAX_CREATED_DELAY_MS = LATE_DELAY_MIN_MS + LATE_DELAY_SPREAD_MS;

export interface Session {
  /** Nominal instant of the first reading; reading i is nominally at start + i * interval. */
  start: number;
  count: number;
  /** Key of the session's own random stream, so it can be generated without generating its neighbours. */
  key: number;
  /** The level this session's sensor values wander around. */
  baseline: number;
}

export interface VehicleDay {
  vehicleIndex: number;
  vehicleCreatedAt: number;
  intervalMs: number;
  /** 0-based fleet day. */
  day: number;
}

export interface PlanContext {
  seed: number;
  readingsPerVehicle: number;
  fleetStartMs: number;
}

/**
 * Splits a vehicle-day's ~readingsPerVehicle readings into 1 to 3 sessions and places them in the day's slot.
 * Only a handful of draws: planning every vehicle-day of a window is cheap, generating readings is not.
 */
export function planVehicleDay(context: PlanContext, vehicleDay: VehicleDay): Session[] {
  const { seed, readingsPerVehicle, fleetStartMs } = context;
  const { vehicleIndex, vehicleCreatedAt, intervalMs, day } = vehicleDay;
  const dayStart = fleetStartMs + day * DAY_MS;
  const slotStart =
    Math.max(dayStart + SLOT_START_OFFSET_MS, vehicleCreatedAt + FIRST_READING_DELAY_MS) + SLOT_EDGE_MS;
  const slotEnd = dayStart + SLOT_END_OFFSET_MS - SLOT_EDGE_MS;
  const usable = slotEnd - slotStart;
  if (usable <= 0 || readingsPerVehicle <= 0) {
    return [];
  }
  const rng = new Mulberry32(streamKey(seed, Salt.dayPlan, vehicleIndex, day));
  // A vehicle registered mid-day measures only what is left of its first day.
  const wanted = Math.round((readingsPerVehicle * rng.between(0.9, 1.1) * usable) / DAY_MS);
  const total = Math.min(wanted, Math.floor((usable * MAX_BUSY_SHARE) / intervalMs));
  if (total < 1) {
    return [];
  }
  const sizes = splitCount(total, Math.min(total, 1 + rng.below(3)), rng);
  // Each session reserves one interval after its last reading, so sessions never touch.
  const spans = sizes.map((size) => size * intervalMs);
  const overnight = rng.next() < OVERNIGHT_SHARE;
  const centre = rng.between(0.3, 0.7);
  const starts =
    (overnight
      ? placeAcrossMidnight(spans, slotStart, slotEnd, dayStart + DAY_MS, centre, rng)
      : undefined) ??
    spread(spans, slotStart, slotEnd, rng) ??
    [];
  return sizes.map((count, index) => ({
    start: starts[index] ?? slotStart,
    count,
    key: streamKey(seed, Salt.session, vehicleIndex, day, index),
    baseline: rng.between(20, 90),
  }));
}

/** Splits `total` into `parts` positive counts with random weights. */
function splitCount(total: number, parts: number, rng: Mulberry32): number[] {
  const weights = Array.from({ length: parts }, () => rng.between(0.5, 1.5));
  const weightSum = weights.reduce((sum, w) => sum + w, 0);
  const spare = total - parts;
  const sizes = weights.map((w) => 1 + Math.floor((spare * w) / weightSum));
  const assigned = sizes.reduce((sum, s) => sum + s, 0);
  sizes[parts - 1] = (sizes[parts - 1] ?? 1) + (total - assigned);
  return sizes;
}

/** Lays spans out in order inside [from, to) with random gaps; undefined when they do not fit. */
function spread(spans: readonly number[], from: number, to: number, rng: Mulberry32): number[] | undefined {
  const free = to - from - spans.reduce((sum, s) => sum + s, 0);
  if (free < 0) {
    return undefined;
  }
  const gaps = Array.from({ length: spans.length + 1 }, () => rng.between(0.2, 1.2));
  const gapSum = gaps.reduce((sum, g) => sum + g, 0);
  const starts: number[] = [];
  let cursor = from;
  spans.forEach((span, index) => {
    cursor += Math.floor((free * (gaps[index] ?? 0)) / gapSum);
    starts.push(cursor);
    cursor += span;
  });
  return starts;
}

/** Puts the last session across midnight and spreads the others before it; undefined when it does not fit. */
function placeAcrossMidnight(
  spans: readonly number[],
  from: number,
  to: number,
  midnight: number,
  centre: number,
  rng: Mulberry32,
): number[] | undefined {
  const last = spans[spans.length - 1] ?? 0;
  const lastStart = midnight - Math.round(last * centre);
  if (lastStart < from || lastStart + last > to) {
    return undefined;
  }
  const before = spread(spans.slice(0, -1), from, lastStart, rng);
  return before === undefined ? undefined : [...before, lastStart];
}

/** Earliest and latest creation instants a session's readings can have, for skipping it without generating it. */
export function creationBounds(session: Session, intervalMs: number): { first: number; last: number } {
  return {
    first: session.start - JITTER_MS + CREATED_DELAY_MIN_MS,
    last: session.start + (session.count - 1) * intervalMs + JITTER_MS + MAX_CREATED_DELAY_MS,
  };
}

/** Reusable columns for one session's readings: a page never allocates per reading until it emits a row. */
export class ReadingColumns {
  timestamp = new Float64Array(1024);
  createdAt = new Float64Array(1024);
  /** NaN stands for a null sensor value. */
  value = new Float64Array(1024);
  /** Index into UNKNOWN_VEHICLE_IDS for readings from vehicles outside the fleet; unused otherwise. */
  source = new Uint8Array(1024);
  length = 0;

  reset(length: number): void {
    if (length > this.timestamp.length) {
      const capacity = Math.max(length, this.timestamp.length * 2);
      this.timestamp = new Float64Array(capacity);
      this.createdAt = new Float64Array(capacity);
      this.value = new Float64Array(capacity);
      this.source = new Uint8Array(capacity);
    }
    this.length = length;
  }
}

/** Generates a session's readings; the stream is the session's own, so the result never depends on context. */
export function generateSession(session: Session, intervalMs: number, into: ReadingColumns): void {
  into.reset(session.count);
  const rng = new Mulberry32(session.key);
  const { timestamp, createdAt, value } = into;
  for (let i = 0; i < session.count; i++) {
    const measured = session.start + i * intervalMs + rng.below(2 * JITTER_MS + 1) - JITTER_MS;
    const isNull = rng.next() < NULL_VALUE_SHARE;
    const level = Math.round((session.baseline + (rng.next() - 0.5) * 10) * 100) / 100;
    const isLate = rng.next() < LATE_CREATED_SHARE;
    const delay = isLate
      ? LATE_DELAY_MIN_MS + rng.below(LATE_DELAY_SPREAD_MS)
      : CREATED_DELAY_MIN_MS + rng.below(CREATED_DELAY_SPREAD_MS);
    timestamp[i] = measured;
    value[i] = isNull ? Number.NaN : level;
    createdAt[i] = measured + delay;
  }
}
