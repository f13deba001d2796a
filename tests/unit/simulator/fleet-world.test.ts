import fc from 'fast-check';
import { type SensorRow, SensorRowSchema, VehicleRowSchema } from '../../../services/shared/rows.js';
import {
  creationWindow,
  FleetWorld,
  JITTER_MS,
  SAMPLING_INTERVAL_MS,
  UNKNOWN_VEHICLE_IDS,
  VEHICLE_TYPES,
  type VehicleType,
} from '../../../simulator/index.js';
import {
  DAY_MS,
  daysWindow,
  dayWindow,
  median,
  readingKey,
  samplingIntervalOf,
  world,
  worldOptions,
} from './factories.js';

describe('FleetWorld determinism', () => {
  it('generates byte-identical rows from the same options and window', () => {
    // Prepare
    const window = dayWindow(2);

    // Act
    const first = JSON.stringify([...world().rows('sensors', window)]);
    const second = JSON.stringify([...world().rows('sensors', window)]);

    // Assess
    expect(first.length).toBeGreaterThan(1000);
    expect(second).toBe(first);
  });

  it('generates different readings from a different seed', () => {
    const window = dayWindow(2);

    const a = JSON.stringify([...world({ seed: 1 }).rows('sensors', window, 0, 50)]);
    const b = JSON.stringify([...world({ seed: 2 }).rows('sensors', window, 0, 50)]);

    expect(a).not.toBe(b);
  });

  it('generates a slice exactly as it appears in the whole window, whatever was generated before', () => {
    const window = dayWindow(3);
    const all = [...world().rows('sensors', window)];

    const slice = [...world().rows('sensors', window, 1234, 321)];

    expect(slice).toEqual(all.slice(1234, 1234 + 321));
  });
});

describe('FleetWorld pagination', () => {
  it.each([7, 97, 5000])('covers every row of the window exactly once with pages of %i', (pageSize) => {
    // Prepare
    const fleet = world();
    const window = dayWindow(2);
    const total = fleet.count('sensors', window);
    const all = [...fleet.rows('sensors', window)];

    // Act
    const paged: SensorRow[] = [];
    for (let offset = 0; offset < total; offset += pageSize) {
      paged.push(...fleet.rows('sensors', window, offset, pageSize));
    }

    // Assess
    expect(all).toHaveLength(total);
    expect(paged).toEqual(all);
    expect(new Set(paged.map(readingKey)).size).toBe(total);
  });

  it('returns nothing past the end of the window', () => {
    const fleet = world();
    const window = dayWindow(1);

    const beyond = [...fleet.rows('sensors', window, fleet.count('sensors', window), 10)];

    expect(beyond).toEqual([]);
  });

  it('pages vehicles by creation order', () => {
    const fleet = world({ vehicles: 300 });
    const window = daysWindow(0, 3);

    const all = [...fleet.rows('vehicles', window)];
    const paged = [0, 100, 200, 300].flatMap((offset) => [...fleet.rows('vehicles', window, offset, 100)]);

    expect(paged).toEqual(all);
    expect(all.map((v) => v.created_at)).toEqual([...all.map((v) => v.created_at)].sort());
  });
});

describe('FleetWorld creation windows', () => {
  it('puts a row created exactly at a boundary in the later of two adjacent windows only', () => {
    // Prepare
    const fleet = world();
    const day = dayWindow(2);
    const rows = [...fleet.rows('sensors', day)];
    const pivot = rows[Math.floor(rows.length / 2)];
    if (pivot === undefined) throw new Error('the day has no readings');
    const boundary = Date.parse(pivot.created_at);

    // Act
    const before = [...fleet.rows('sensors', creationWindow(day.fromMs, boundary))];
    const after = [...fleet.rows('sensors', creationWindow(boundary, day.toMs))];

    // Assess
    expect(before.map(readingKey)).not.toContain(readingKey(pivot));
    expect(after.map(readingKey)).toContain(readingKey(pivot));
    expect(before.length + after.length).toBe(rows.length);
  });

  it('splits a day into two windows that partition its rows, wherever the split falls', () => {
    const fleet = world({ vehicles: 12, readingsPerVehicle: 40 });
    const day = dayWindow(1);
    const keys = new Set([...fleet.rows('sensors', day)].map(readingKey));

    fc.assert(
      fc.property(fc.integer({ min: day.fromMs, max: day.toMs }), (split) => {
        const left = [...fleet.rows('sensors', creationWindow(day.fromMs, split))].map(readingKey);
        const right = [...fleet.rows('sensors', creationWindow(split, day.toMs))].map(readingKey);
        const union = new Set([...left, ...right]);
        return (
          left.length + right.length === keys.size &&
          union.size === keys.size &&
          [...union].every((k) => keys.has(k))
        );
      }),
      { numRuns: 25 },
    );
  });

  it('answers with nothing before the fleet exists', () => {
    const fleet = world();

    expect(fleet.count('sensors', dayWindow(-1))).toBe(0);
    expect(fleet.count('vehicles', dayWindow(-1))).toBe(0);
  });
});

describe('FleetWorld vehicles', () => {
  it('creates the initial fleet on the first day and 2% of it on each later day', () => {
    const fleet = world({ vehicles: 500 });

    const counts = [0, 1, 2, 3].map((d) => fleet.count('vehicles', dayWindow(d)));

    expect(counts).toEqual([500, 10, 10, 10]);
  });

  it('lists valid vehicles with ids V000001.. and types from the fixed list', () => {
    const vehicles = [...world({ vehicles: 200 }).rows('vehicles', daysWindow(0, 2))];

    expect(vehicles[0]?.vehicle_id).toBe('V000001');
    expect(vehicles.every((v) => VehicleRowSchema.safeParse(v).success)).toBe(true);
    expect(new Set(vehicles.map((v) => v.vehicle_type))).toEqual(new Set(VEHICLE_TYPES));
  });
});

describe('FleetWorld sensor readings', () => {
  const fleet = world();
  const span = daysWindow(0, 6);
  const readings = [...fleet.rows('sensors', span)];
  const typeOf = new Map([...fleet.rows('vehicles', span)].map((v) => [v.vehicle_id, v.vehicle_type]));
  const byVehicle = new Map<string, SensorRow[]>();
  for (const row of readings) {
    const rows = byVehicle.get(row.vehicle_id) ?? [];
    rows.push(row);
    byVehicle.set(row.vehicle_id, rows);
  }
  const timelines = [...byVehicle.values()].map((rows) =>
    [...rows].sort((a, b) => a.timestamp - b.timestamp),
  );

  it('produces rows of exactly the SensorRow shape', () => {
    expect(readings.every((row) => SensorRowSchema.safeParse(row).success)).toBe(true);
    expect(Object.keys(readings[0] ?? {})).toEqual(['vehicle_id', 'timestamp', 'sensor_value', 'created_at']);
  });

  it('samples each vehicle type at its own interval, with millisecond jitter', () => {
    // Prepare
    const gapsByType = new Map<string, number[]>();
    for (const rows of timelines) {
      const type = typeOf.get(rows[0]?.vehicle_id ?? '');
      if (type === undefined) continue;
      const gaps = rows.slice(1).map((row, i) => row.timestamp - (rows[i]?.timestamp ?? 0));
      gapsByType.set(type, [...(gapsByType.get(type) ?? []), ...gaps]);
    }

    // Act
    const medians = VEHICLE_TYPES.map((type) => median(gapsByType.get(type) ?? []));

    // Assess
    VEHICLE_TYPES.forEach((type: VehicleType, i) => {
      expect(Math.abs((medians[i] ?? 0) - SAMPLING_INTERVAL_MS[type])).toBeLessThanOrEqual(2 * JITTER_MS);
    });
    expect(new Set(Object.values(SAMPLING_INTERVAL_MS)).size).toBe(VEHICLE_TYPES.length);
    expect(readings.some((row) => row.timestamp % 1000 !== 0)).toBe(true);
  });

  it('leaves about 2% of sensor values null', () => {
    const share = readings.filter((row) => row.sensor_value === null).length / readings.length;

    expect(share).toBeGreaterThan(0.01);
    expect(share).toBeLessThan(0.03);
  });

  it('has sessions that cross midnight UTC, with readings on both sides', () => {
    const crossings = timelines.flatMap((rows) =>
      rows.slice(1).filter((row, i) => {
        const previous = rows[i]?.timestamp ?? 0;
        const midnight = Math.ceil(previous / DAY_MS) * DAY_MS;
        const interval = samplingIntervalOf(typeOf.get(row.vehicle_id));
        return (
          row.timestamp >= midnight &&
          previous < midnight &&
          row.timestamp - previous <= interval + 2 * JITTER_MS
        );
      }),
    );

    expect(crossings.length).toBeGreaterThan(5);
  });

  it('creates most readings a few hundred ms after measuring them and about 1% a day later', () => {
    const delays = readings.map((row) => Date.parse(row.created_at) - row.timestamp);
    const late = delays.filter((d) => d >= DAY_MS);

    expect(delays.filter((d) => d < DAY_MS).every((d) => d >= 100 && d < 1000)).toBe(true);
    expect(late.every((d) => d > DAY_MS && d < DAY_MS + 2 * 3_600_000)).toBe(true);
    expect(late.length / readings.length).toBeGreaterThan(0.005);
    expect(late.length / readings.length).toBeLessThan(0.02);
  });

  it('serves a late reading in the window of its creation day, not of its measurement day', () => {
    const late = readings.find((row) => Date.parse(row.created_at) - row.timestamp >= DAY_MS);
    if (late === undefined) throw new Error('no late reading');
    const createdDay = Math.floor(Date.parse(late.created_at) / DAY_MS) * DAY_MS;
    const measuredDay = Math.floor(late.timestamp / DAY_MS) * DAY_MS;

    const inCreationDay = [...fleet.rows('sensors', creationWindow(createdDay, createdDay + DAY_MS))];
    const inMeasuredDay = [...fleet.rows('sensors', creationWindow(measuredDay, measuredDay + DAY_MS))];

    expect(inCreationDay.map(readingKey)).toContain(readingKey(late));
    expect(inMeasuredDay.map(readingKey)).not.toContain(readingKey(late));
  });

  it('includes about 0.1% of readings from vehicles that are not in the fleet', () => {
    const unknown = readings.filter((row) => !typeOf.has(row.vehicle_id));

    expect(unknown.every((row) => (UNKNOWN_VEHICLE_IDS as readonly string[]).includes(row.vehicle_id))).toBe(
      true,
    );
    expect(unknown.length / readings.length).toBeGreaterThan(0.0005);
    expect(unknown.length / readings.length).toBeLessThan(0.003);
  });

  it('has at least one unknown-vehicle reading every day, even in a tiny fleet', () => {
    const tiny = world({ vehicles: 2, readingsPerVehicle: 10 });

    const perDay = [0, 1, 2, 3].map(
      (d) => [...tiny.rows('sensors', dayWindow(d))].filter((row) => row.vehicle_id.startsWith('X')).length,
    );

    expect(perDay.every((n) => n >= 1)).toBe(true);
  });

  it('measures about readingsPerVehicle readings per vehicle on a full day', () => {
    const options = worldOptions({ readingsPerVehicle: 200 });
    const fleet200 = new FleetWorld(options);
    const day = dayWindow(3);

    const perVehicle = fleet200.count('sensors', day) / options.vehicles;

    expect(perVehicle).toBeGreaterThan(150);
    expect(perVehicle).toBeLessThan(250);
  });
});
