/**
 * The rows' fast path (services/shared/row-fast-path.ts) against the zod schemas it stands in for (rows.ts), on
 * random rows: valid ones, invalid ones and the edge cases the schemas were written for. The fast path may only
 * ever answer what zod answers; the page parser with it must store, drop and quarantine exactly what it stores,
 * drops and quarantines without it, byte for byte.
 */
import fc from 'fast-check';
import type { Dataset, DateWindow } from '../../../../events/index.js';
import { parsePageBody } from '../../../../services/adapters/http/page-body-parser.js';
import { type RowCheckPath, rowReader } from '../../../../services/adapters/http/row-reader.js';
import { canonicalRowTexts, fastRowChecks } from '../../../../services/shared/row-fast-path.js';
import { rowSchemas } from '../../../../services/shared/rows.js';
import { DEFAULT_ROWS, type PageShape } from '../../../../services/source-config/index.js';

const RUNS = 3000;

/** Characters that matter to the schemas or to JSON: quotes, escapes, structure, CJK, emoji, lone surrogates. */
const tricky = fc.constantFrom(
  'a',
  'Z',
  '7',
  '-',
  ' ',
  'é',
  '€',
  '中',
  '𝄞',
  '\uD800',
  '\uDC00',
  '"',
  '\\',
  '}',
  '{',
  ',',
  ':',
  '\n',
  '\u0000',
  '\u007f',
  '\u2028',
);

const text = fc.oneof(
  fc.stringMatching(/^veh-[0-9]{1,6}$/),
  fc.string({ unit: tricky, minLength: 0, maxLength: 70 }),
  // Around the id's limit of 64 characters; zod counts code points, so an emoji (two UTF-16 units) counts one.
  fc.integer({ min: 60, max: 70 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 30, max: 70 }).map((n) => '🚚'.repeat(n)),
  fc.constantFrom(
    'null',
    'NULL',
    'Null',
    '__HIVE_DEFAULT_PARTITION__',
    '__hive_default_partition__',
    'nul',
    '',
  ),
  fc.constantFrom('car', 'truck', 'bus', 'van', 'motorbike', 'Kleintransporter', 'camión', 'トラック'),
);

/** Vehicle types: any text, and text around their limit of 1,024 characters, in CJK, emoji and ASCII. */
const vehicleType = fc.oneof(
  { weight: 4, arbitrary: text },
  fc.integer({ min: 1020, max: 1028 }).map((n) => '中'.repeat(n)),
  fc.integer({ min: 510, max: 1028 }).map((n) => '🚚'.repeat(n)),
  fc.integer({ min: 1020, max: 1028 }).map((n) => 'x'.repeat(n)),
);

const instant = fc.oneof(
  fc
    .date({
      min: new Date('1970-01-01T00:00:00Z'),
      max: new Date('2100-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '2026-11-25T09:00:00.000Z',
    '2026-11-23T23:59:59.999Z',
    '2026-11-24T09:00:00+01:00',
    '2026-11-24T09:00:00.5-05:30',
    '2026-11-24T23:30:00.123456+14:00',
    '2026-11-24T09:00:00Z',
    '2026-11-24T09:00:00.000z',
    '2026-11-24 09:00:00.000Z',
    '2026-02-29T00:00:00.000Z',
    '2028-02-29T00:00:00.000Z',
    '2026-02-30T00:00:00.000Z',
    '2026-13-01T00:00:00.000Z',
    '2026-11-24T24:00:00.000Z',
    '2026-11-24T09:00:60.000Z',
    '0000-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
    '+275760-09-13T00:00:00.000Z',
    '2026-11-24T09:00:00.000+24:00',
    '2026-11-24',
    '',
  ),
  fc.string({ maxLength: 30 }),
);

const timestamp = fc.oneof(
  fc.integer({ min: 0, max: 2_000_000_000_000 }),
  fc.maxSafeInteger(),
  fc.constantFrom(
    0,
    -0,
    -1,
    1.5,
    1e15,
    1e21,
    2 ** 53,
    2 ** 53 - 1,
    -(2 ** 53),
    Number.NaN,
    Infinity,
    -Infinity,
  ),
  fc.double(),
);

const sensorValue = fc.oneof(
  fc.constant(null),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(-0, 1e21, 1e308, -1e-7, 5e-324, Number.NaN, Infinity, -Infinity),
);

const notSomething = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.string({ maxLength: 5 }),
  fc.constant({}),
  fc.constant([1]),
);

/** Each field its usual kind nine times in ten (so that enough whole rows are valid: the accept side is reached), sometimes anything else or missing; sometimes extra fields. */
const field = <T>(usual: fc.Arbitrary<T>) => fc.oneof({ weight: 9, arbitrary: usual }, notSomething);

function candidate(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const row = fc
    .tuple(
      fc.record(fields),
      fc.dictionary(fc.constantFrom('extra', 'vehicle_id ', 'odometer', '__proto__'), fc.jsonValue(), {
        maxKeys: 2,
      }),
    )
    .map(([values, extra]) => {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(values)) if (value !== undefined) out[key] = value;
      for (const [key, value] of Object.entries(extra))
        Object.defineProperty(out, key, { value, enumerable: true });
      return out;
    });
  return fc.oneof({ weight: 9, arbitrary: row }, notSomething, fc.constant([{ vehicle_id: 'a' }]));
}

const candidates: Record<Dataset, fc.Arbitrary<unknown>> = {
  vehicles: candidate({
    vehicle_id: field(text),
    vehicle_type: field(vehicleType),
    created_at: field(instant),
  }),
  sensors: candidate({
    vehicle_id: field(text),
    timestamp: field(timestamp),
    sensor_value: field(sensorValue),
    created_at: field(instant),
  }),
};

/** Same keys in the same order, values the same by Object.is (so -0 is not 0). */
function expectSameRow(actual: Record<string, unknown>, expected: unknown): void {
  expect(typeof expected).toBe('object');
  const wanted = expected as Record<string, unknown>;
  expect(Object.keys(actual)).toEqual(Object.keys(wanted));
  for (const key of Object.keys(wanted)) expect(Object.is(actual[key], wanted[key])).toBe(true);
}

describe.each(['vehicles', 'sensors'] as const)('the %s fast check', (dataset) => {
  const schema = rowSchemas[dataset];
  const fast = fastRowChecks[dataset];

  it('accepts exactly the rows the zod schema accepts, and returns what it returns', () => {
    let accepted = 0;
    fc.assert(
      fc.property(candidates[dataset], (row) => {
        const expected = schema.safeParse(row);
        const actual = fast(row);
        expect(actual !== undefined).toBe(expected.success);
        if (actual !== undefined) {
          accepted += 1;
          expectSameRow(actual, expected.data);
        }
      }),
      { numRuns: RUNS },
    );
    // The generators reach both sides: a check that declined everything would pass the property.
    expect(accepted).toBeGreaterThan(RUNS / 20);
  });

  it('accepts the edge cases the schema was written for exactly as zod does', () => {
    const base =
      dataset === 'sensors'
        ? { vehicle_id: 'v-1', timestamp: 1, sensor_value: 1.5, created_at: '2026-11-24T09:00:00.000Z' }
        : { vehicle_id: 'v-1', vehicle_type: 'car', created_at: '2026-11-24T09:00:00.000Z' };
    const variants: Record<string, unknown>[] = [
      base,
      { ...base, vehicle_id: '\uD800' },
      { ...base, vehicle_id: 'a\uDC00b' },
      { ...base, vehicle_id: '𝄞' },
      { ...base, vehicle_id: 'x'.repeat(65) },
      { ...base, vehicle_type: 'NULL' },
      { ...base, vehicle_type: '__Hive_Default_Partition__' },
      { ...base, vehicle_type: '中'.repeat(300) },
      { ...base, vehicle_type: '中'.repeat(1024) },
      { ...base, vehicle_type: '中'.repeat(1025) },
      { ...base, vehicle_type: '/../' },
      { ...base, vehicle_type: '🚚'.repeat(1024) },
      { ...base, vehicle_type: '🚚'.repeat(1025) },
      { ...base, vehicle_id: '🚚'.repeat(64) },
      { ...base, vehicle_id: '🚚'.repeat(65) },
      { ...base, created_at: '2026-11-24T09:00:00+01:00' },
      { ...base, created_at: '2026-11-24T09:00:00.123456789-03:00' },
      { ...base, timestamp: -0 },
      { ...base, timestamp: 1e21 },
      { ...base, timestamp: 2 ** 53 },
      { ...base, sensor_value: -0 },
      { ...base, sensor_value: 1e21 },
      { ...base, sensor_value: Infinity },
      { ...base, extra: 1 },
    ];
    for (const row of variants) {
      const expected = schema.safeParse(row);
      const actual = fast(row);
      expect({ row, accepted: actual !== undefined }).toEqual({ row, accepted: expected.success });
      if (actual !== undefined) expectSameRow(actual, expected.data);
    }
  });
});

/** Spellings of a whole number, valid JSON or not: only the plain one is canonical. */
const numberText = (value: number) =>
  fc.constantFrom(String(value), `${value}.0`, `${value}e0`, `-${value}`, `0${value}`, `+${value}`);

/** Row texts: the canonical form with random values, and other spellings of rows (which the fast path declines). */
function rowTexts(dataset: Dataset): fc.Arbitrary<string> {
  const canonical =
    dataset === 'sensors'
      ? fc
          .record({
            id: text,
            ts: fc.oneof(fc.nat({ max: 2_000_000_000_000 }), fc.constantFrom(0, 999_999_999_999_999, 1e15)),
            value: fc.oneof(
              fc.constant('null'),
              fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
              fc.constantFrom('-0', '-0.0', '0.10', '1.00000000000000000001', '123456789012345.5'),
            ),
            at: instant,
          })
          .map(
            ({ id, ts, value, at }) =>
              `{"vehicle_id":${JSON.stringify(id)},"timestamp":${ts},"sensor_value":${value},"created_at":${JSON.stringify(at)}}`,
          )
      : fc
          .record({ id: text, type: vehicleType, at: instant })
          .map(
            ({ id, type, at }) =>
              `{"vehicle_id":${JSON.stringify(id)},"vehicle_type":${JSON.stringify(type)},"created_at":${JSON.stringify(at)}}`,
          );
  const raw = (value: string) => value.replaceAll('\\"', '"');
  const variations = fc.oneof(
    canonical.map((row) => row.replace(':', ': ')),
    canonical.map((row) => row.replace('{', '{ ')),
    canonical.map((row) => `${row.slice(0, -1)},"extra":1}`),
    canonical.map((row) => `${row.slice(0, -1)},"vehicle_id":"dup"}`),
    canonical.map((row) => row.replace('"vehicle_id"', '"vehicle\\u005fid"')),
    canonical.map(raw),
    fc.nat({ max: 50 }).chain((n) => numberText(n).map((t) => row0(dataset, t))),
    candidates[dataset].map((row) => JSON.stringify(row) ?? 'null'),
  );
  return fc.oneof({ weight: 3, arbitrary: canonical }, variations);
}

/** A valid row of the dataset with its timestamp (sensors) or nothing else changed, written canonically. */
function row0(dataset: Dataset, timestampText: string): string {
  return dataset === 'sensors'
    ? `{"vehicle_id":"v","timestamp":${timestampText},"sensor_value":null,"created_at":"2026-11-24T09:00:00.000Z"}`
    : '{"vehicle_id":"v","vehicle_type":"car","created_at":"2026-11-24T09:00:00.000Z"}';
}

describe.each(['vehicles', 'sensors'] as const)('the %s canonical row text', (dataset) => {
  const schema = rowSchemas[dataset];
  const canonical = canonicalRowTexts[dataset];

  it('accepts a row only when it is whole JSON that zod accepts unchanged, so that its text is what is stored', () => {
    let accepted = 0;
    fc.assert(
      fc.property(rowTexts(dataset), fc.constantFrom(',', ']'), (row, next) => {
        const end = canonical.end(`${row}${next}`, 0);
        if (end < 0) return;
        accepted += 1;
        expect(end).toBe(row.length);
        const parsed: unknown = JSON.parse(row);
        const expected = schema.safeParse(parsed);
        expect(expected.success).toBe(true);
        expectSameRow(parsed as Record<string, unknown>, expected.data);
        expect(Object.keys(parsed as object)).toHaveLength(canonical.keys);
        expect(canonical.createdAt(row, end)).toBe(expected.data?.created_at);
      }),
      { numRuns: RUNS },
    );
    expect(accepted).toBeGreaterThan(RUNS / 20);
  });

  it('accepts the rows the simulator writes', () => {
    const row =
      dataset === 'sensors'
        ? '{"vehicle_id":"veh-00042","timestamp":1764000000000,"sensor_value":-12.25,"created_at":"2026-11-24T16:00:00.000Z"}'
        : '{"vehicle_id":"veh-00042","vehicle_type":"motorbike","created_at":"2026-11-24T16:00:00.000Z"}';
    expect(canonical.end(`[${row},`, 1)).toBe(row.length + 1);
  });
});

const SHAPE: PageShape = {
  rowsPath: ['data'],
  total: { path: ['total_pages'], counts: 'pages' },
  pagePath: ['page'],
};
/** The night of 2026-11-24 in UTC: random instants mostly fall outside it, some inside. */
const WINDOW: DateWindow = {
  from: '2026-11-24T00:00:00.000Z',
  to: '2026-11-25T00:00:00.000Z',
  timeZone: 'UTC',
};

/** The window the API was asked for around it (a coarse filter's): rows of the nights beside are inside it. */
const ASKED: DateWindow = {
  from: '2026-11-23T00:00:00.000Z',
  to: '2026-11-26T00:00:00.000Z',
  timeZone: 'UTC',
};

/** Cuts `body` at the given offsets, as chunks of bytes arrive (a character may be cut in two). */
function chunks(body: string, cuts: readonly number[]): Buffer[] {
  const bytes = Buffer.from(body);
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    out.push(bytes.subarray(from, cut));
    from = cut;
  }
  return out;
}

describe.each(['vehicles', 'sensors'] as const)('pages of %s, fast path against zod only', (dataset) => {
  it('store, drop and quarantine the same rows, the same bytes, however the body is cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof({ weight: 4, arbitrary: rowTexts(dataset) }, fc.constant('{"vehicle_id":"v"}')), {
          maxLength: 30,
        }),
        fc.constantFrom('', ' ', '\n'),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.boolean(),
        fc.constantFrom<'quarantine' | 'fail'>('quarantine', 'fail'),
        fc.constantFrom<'fail' | 'warn' | undefined>('fail', 'warn', undefined),
        (rows, space, cuts, windowed, action, outsideAsked) => {
          const body = `{"page":1,"total_pages":1,"data":[${space}${rows.join(`,${space === '\n' ? '' : space}`)}]}`;
          const parse = (path: RowCheckPath) =>
            parsePageBody(chunks(body, cuts), {
              shape: SHAPE,
              page: 1,
              pageSize: 50,
              checkRow: rowReader(
                dataset,
                DEFAULT_ROWS,
                windowed ? WINDOW : undefined,
                path,
                windowed && outsideAsked !== undefined ? ASKED : undefined,
              ),
              invalidRows: { action, maxShare: 1 },
              ...(windowed && outsideAsked !== undefined
                ? { rowsOutsideAsked: { action: outsideAsked, asked: ASKED, filters: 'from, to' } }
                : {}),
            });
          expect(parse('fast')).toEqual(parse('zod'));
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('a page the simulator writes', () => {
  it('is read on its text, no row parsed, however its bytes are cut into chunks', () => {
    const rows = Array.from(
      { length: 200 },
      (_, i) =>
        `{"vehicle_id":"veh-${i}","timestamp":${1764000000000 + i},"sensor_value":${i % 7 === 0 ? 'null' : i / 8},"created_at":"2026-11-24T10:00:00.000Z"}`,
    );
    const body = `{"page":1,"page_size":200,"total_pages":1,"total_items":200,"data":[${rows.join(',')}]}`;
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        const reader = rowReader('sensors', DEFAULT_ROWS, WINDOW);
        let parsedRows = 0;
        const counting = Object.assign(
          (raw: unknown) => {
            parsedRows += 1;
            return reader(raw);
          },
          { canonicalText: reader.canonicalText },
        );
        const result = parsePageBody(chunks(body, cuts), {
          shape: SHAPE,
          page: 1,
          pageSize: 200,
          checkRow: counting,
          invalidRows: { action: 'fail', maxShare: 0 },
        });
        expect(result).toMatchObject({ ok: true, rows: 200, ndjsonAll: `${rows.join('\n')}\n` });
        expect(parsedRows).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
