import fc from 'fast-check';
import { rowSchemas, wellFormedRow } from '../../../services/shared/rows.js';

/** Values near the edges of the row schemas: what a fast check could get wrong. */
const text = fc.oneof(
  fc.string({ minLength: 0, maxLength: 70 }),
  fc.constantFrom('', 'v-1', 'x'.repeat(64), 'x'.repeat(65)),
);
const instant = fc.oneof(
  fc
    .date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '2026-01-02T03:04:05.678Z',
    '2026-02-30T00:00:00.000Z',
    '2026-13-01T00:00:00.000Z',
    '2026-01-02T24:00:00.000Z',
    '2026-01-02T03:04:05Z',
    '2026-01-02T03:04:05.678+01:00',
    '2026-01-02 03:04:05.678Z',
    '+012026-01-02T03:04:05.678Z',
  ),
  fc.string(),
);
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 2 ** 53, 2 ** 53 - 1, Number.NaN, Number.POSITIVE_INFINITY, 1.5),
);
const anyValue = fc.oneof(text, instant, number, fc.constant(null), fc.boolean(), fc.constant(undefined));
const extraKeys = fc.dictionary(
  fc.constantFrom('extra', 'vehicle_type', '__proto__', 'timestamp'),
  anyValue,
  {
    maxKeys: 2,
  },
);

const sensorRow = fc
  .record({
    vehicle_id: fc.oneof(text, anyValue),
    timestamp: fc.oneof(number, anyValue),
    sensor_value: fc.oneof(number, fc.constant(null), anyValue),
    created_at: fc.oneof(instant, anyValue),
  })
  .chain((row) => extraKeys.map((extra) => JSON.parse(JSON.stringify({ ...row, ...extra })) as unknown));
const vehicleRow = fc
  .record({
    vehicle_id: fc.oneof(text, anyValue),
    vehicle_type: fc.oneof(text, anyValue),
    created_at: fc.oneof(instant, anyValue),
  })
  .chain((row) => extraKeys.map((extra) => JSON.parse(JSON.stringify({ ...row, ...extra })) as unknown));

describe('wellFormedRow: the row checks that spare zod on well-formed rows', () => {
  it.each([
    ['sensors', sensorRow],
    ['vehicles', vehicleRow],
  ] as const)(
    'accepts a %s row only when its schema accepts it and returns it unchanged',
    (dataset, rows) => {
      fc.assert(
        fc.property(rows, (row) => {
          if (!wellFormedRow[dataset](row)) return;
          const parsed = rowSchemas[dataset].safeParse(row);
          expect(parsed.success).toBe(true);
          expect(parsed.data).toStrictEqual(row);
          expect(Object.keys(parsed.data ?? {})).toHaveLength(Object.keys(row as object).length);
        }),
        { numRuns: 5_000 },
      );
    },
  );

  it('accepts the rows the seed API sends', () => {
    const sensor = {
      vehicle_id: 'veh-00001',
      timestamp: 1_767_312_000_123,
      sensor_value: 12.5,
      created_at: '2026-01-02T00:00:00.623Z',
    };
    const nullValue = { ...sensor, sensor_value: null };
    const vehicle = {
      vehicle_id: 'veh-00001',
      vehicle_type: 'truck',
      created_at: '2026-01-02T00:00:00.000Z',
    };

    expect(wellFormedRow.sensors(sensor)).toBe(true);
    expect(wellFormedRow.sensors(nullValue)).toBe(true);
    expect(wellFormedRow.vehicles(vehicle)).toBe(true);
  });

  it('leaves to zod what it would have to normalise or reject', () => {
    const sensor = {
      vehicle_id: 'veh-00001',
      timestamp: 1,
      sensor_value: 1,
      created_at: '2026-01-02T01:00:00+01:00',
    };

    expect(wellFormedRow.sensors(sensor)).toBe(false);
    expect(wellFormedRow.sensors({ ...sensor, created_at: '2026-01-02T00:00:00.000Z', extra: 1 })).toBe(
      false,
    );
    expect(wellFormedRow.sensors({ ...sensor, created_at: '2026-01-02T00:00:00.000Z', timestamp: 1.5 })).toBe(
      false,
    );
  });
});
