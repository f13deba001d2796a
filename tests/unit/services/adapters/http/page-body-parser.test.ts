import fc from 'fast-check';
import { parseJsonText } from '../../../../../services/adapters/http/json-text.js';
import {
  type PageParserOptions,
  parsePageBody,
  type RowCheck,
} from '../../../../../services/adapters/http/page-body-parser.js';
import { rowReader } from '../../../../../services/adapters/http/row-reader.js';
import { DEFAULT_ROWS, type PageShape } from '../../../../../services/source-config/index.js';

const seedShape: PageShape = {
  rowsPath: ['data'],
  total: { path: ['total_pages'], counts: 'pages' },
  pagePath: ['page'],
};

const acceptAll: RowCheck = (row) => ({ ok: true, row });

function options(overrides: Partial<PageParserOptions> = {}): PageParserOptions {
  return {
    shape: seedShape,
    page: 1,
    pageSize: 1000,
    checkRow: acceptAll,
    invalidRows: { action: 'quarantine', maxShare: 0.01 },
    ...overrides,
  };
}

/** Splits a text into pieces at the given cut points (any order, duplicates allowed). */
function split(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let at = 0;
  for (const point of points) {
    pieces.push(text.slice(at, point));
    at = point;
  }
  pieces.push(text.slice(at));
  return pieces;
}

/** The same, in bytes: pieces may end in the middle of a multi-byte character. */
function splitBytes(text: string | Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const point of points) {
    pieces.push(bytes.subarray(at, point));
    at = point;
  }
  pieces.push(bytes.subarray(at));
  return pieces;
}

/** The stored lines as values, read with parseJsonText: JSON.parse misreads escaped keys from Node.js 24 on. */
const linesOf = (ndjson: string | undefined) =>
  (ndjson ?? '')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => parseJsonText(l));

const sensorRow = {
  vehicle_id: 'V000001',
  timestamp: 1_764_000_000_000,
  sensor_value: 1.5,
  created_at: '2026-11-24T08:00:00.123Z',
};

/** Rows of any JSON shape, with the characters that trip scanners: quotes, escapes, brackets, commas, non-ASCII. */
const trickyString = fc.string({
  unit: fc.constantFrom('a', '"', '\\', '[', ']', '{', '}', ',', ':', ' ', '\n', 'é', '€', '𝄞', '\u0000'),
  maxLength: 12,
});
const jsonRow = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    trickyString,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(trickyString, tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** A valid page body: rows anywhere the shape says, extra envelope members before and after them. */
const validBody = fc
  .record({
    rows: fc.array(jsonRow, { maxLength: 20 }),
    totalPages: fc.nat({ max: 1000 }),
    before: fc.dictionary(
      trickyString.map((k) => `b${k}`),
      jsonRow,
      { maxKeys: 2 },
    ),
    after: fc.dictionary(
      trickyString.map((k) => `a${k}`),
      jsonRow,
      { maxKeys: 2 },
    ),
    spaces: fc.constantFrom('', ' ', '\n  '),
  })
  .map((body) => ({
    ...body,
    // A page's rows agree with its total_pages (pageInconsistency): rows mean at least one page, none may mean none.
    totalPages: body.rows.length === 0 ? Math.min(body.totalPages, 1) : Math.max(body.totalPages, 1),
  }));

/** Page 1 of a valid body: full (page size = its rows) when more pages follow it, any size when it is the last. */
const pageOneOf = (body: { rows: unknown[]; totalPages: number }): Partial<PageParserOptions> => ({
  page: 1,
  pageSize: body.totalPages > 1 ? body.rows.length : 1000,
});

function render(body: {
  rows: unknown[];
  totalPages: number;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  spaces: string;
}): string {
  const members = [
    ...Object.entries(body.before).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`),
    `"page":1`,
    `"data":[${body.spaces}${body.rows.map((r) => JSON.stringify(r)).join(`,${body.spaces}`)}${body.spaces}]`,
    ...Object.entries(body.after).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`),
    `"total_pages":${body.totalPages}`,
  ];
  return `{${body.spaces}${members.join(`,${body.spaces}`)}${body.spaces}}`;
}

describe('the page body parser (properties)', () => {
  it('never throws on arbitrary text, however it is cut into pieces', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 6 }), (text, cuts) => {
        const result = parsePageBody(split(text, cuts), options());
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary bytes, invalid UTF-8 included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
        const result = parsePageBody(splitBytes(bytes, cuts), options());
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on JSON-like text made of structural characters', () => {
    const structural = fc.string({
      unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', ',', ':', 'data', '1', ' ', 'total_pages', 'page'),
      maxLength: 60,
    });
    fc.assert(
      fc.property(structural, fc.array(fc.nat(), { maxLength: 4 }), (text, cuts) => {
        const result = parsePageBody(split(text, cuts), options());
        if (result.ok) {
          // Whatever it accepted really was JSON with the envelope the shape describes.
          expect(() => JSON.parse(text)).not.toThrow();
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every valid body, cut anywhere (bytes too), with exactly its rows and total_pages', () => {
    fc.assert(
      fc.property(validBody, fc.array(fc.nat(), { maxLength: 8 }), (body, cuts) => {
        const text = render(body);
        for (const pieces of [split(text, cuts), splitBytes(text, cuts)]) {
          const result = parsePageBody(pieces, options(pageOneOf(body)));
          expect(result).toMatchObject({ ok: true, totalPages: body.totalPages, rows: body.rows.length });
          if (result.ok) expect(linesOf(result.ndjsonAll)).toEqual(parseJsonText(JSON.stringify(body.rows)));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('writes flat rows (a batch at a time) as exactly one line each, whatever their strings hold', () => {
    const flatRow = fc.dictionary(
      fc.string({
        unit: fc.constantFrom('a', '"', '}', '{', ',', '\\', '\n', ':'),
        minLength: 1,
        maxLength: 6,
      }),
      fc.oneof(
        fc.constant(null),
        fc.boolean(),
        fc.integer(),
        trickyString,
        fc.constantFrom('},{"', '"},{"a":"'),
      ),
      { minKeys: 1, maxKeys: 4 },
    );
    const flat: RowCheck = (row) => ({ ok: true, row, flat: true });
    fc.assert(
      fc.property(
        fc.array(flatRow, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (rows, cuts) => {
          const body = `{"page":1,"total_pages":1,"data":${JSON.stringify(rows)}}`;
          const result = parsePageBody(split(body, cuts), options({ checkRow: flat }));
          expect(result.ok && linesOf(result.ndjsonAll)).toEqual(rows);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('stores a row’s own text only when it holds exactly the validated keys: never a duplicated key', () => {
    const key = fc.constantFrom('a', 'b', 'c', 'a"b', 'x:y');
    const member = fc.tuple(
      key,
      fc.oneof(fc.integer(), trickyString, fc.constant(null)),
      fc.constantFrom('', ' '),
    );
    const rowText = fc.array(member, { minLength: 1, maxLength: 5 }).map((members) => ({
      text: `{${members.map(([k, v, sp]) => `${sp}${JSON.stringify(k)}${sp}:${sp}${JSON.stringify(v)}`).join(',')}}`,
      members: members.length,
    }));
    const verbatim: RowCheck = (row) => ({ ok: true, row, verbatimKeys: Object.keys(row as object).length });
    fc.assert(
      fc.property(
        fc.array(rowText, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (rows, cuts) => {
          const body = `{"page":1,"total_pages":1,"data":[${rows.map((r) => r.text).join(' , ')}]}`;
          const result = parsePageBody(split(body, cuts), options({ checkRow: verbatim }));
          const lines = (result.ok ? (result.ndjsonAll ?? '') : '').split('\n').filter((l) => l !== '');
          expect(lines).toHaveLength(rows.length);
          lines.forEach((line, i) => {
            const parsed: unknown = parseJsonText(rows[i]?.text ?? '');
            expect(parseJsonText(line)).toEqual(parsed);
            // With a duplicated key the own text would say two things; it is re-serialised instead.
            const duplicated = (rows[i]?.members ?? 0) > Object.keys(parsed as object).length;
            if (duplicated) expect(line).toBe(JSON.stringify(parsed));
            else expect(line).toBe(rows[i]?.text.trim());
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never accepts a truncated body: every strict prefix is refused', () => {
    fc.assert(
      fc.property(validBody, fc.array(fc.nat(), { maxLength: 4 }), fc.nat(), (body, cuts, cutAt) => {
        const text = render(body);
        const prefix = text.slice(0, cutAt % text.length);
        const result = parsePageBody(split(prefix, cuts), options());
        expect(result.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('calls a cut in the middle of the JSON truncated, so the caller retries it', () => {
    fc.assert(
      fc.property(validBody, fc.nat(), (body, cutAt) => {
        const text = render(body);
        const result = parsePageBody([text.slice(0, cutAt % text.length)], options());
        expect(result).toMatchObject({ ok: false, failure: { kind: 'truncated' } });
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a body with bytes cut off in the middle (not only at the end)', () => {
    fc.assert(
      fc.property(validBody, fc.nat(), fc.integer({ min: 1, max: 5 }), (body, at, length) => {
        const text = render(body);
        const start = at % text.length;
        const damaged = text.slice(0, start) + text.slice(start + length);
        let valid = true;
        try {
          JSON.parse(damaged);
        } catch {
          valid = false;
        }
        const result = parsePageBody([damaged], options());
        if (!valid) expect(result.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the page body parser', () => {
  const sensors = { ...options({ checkRow: rowReader('sensors', DEFAULT_ROWS) }) };

  it('turns a seed-API page into NDJSON of canonical rows, in order', () => {
    const body = JSON.stringify({
      page: 1,
      page_size: 2,
      total_pages: 7,
      total_items: 13,
      data: [
        { ...sensorRow, extra: 'dropped' },
        { ...sensorRow, sensor_value: null, created_at: '2026-11-24T09:00:00+01:00' },
      ],
    });

    const result = parsePageBody([body], { ...sensors, pageSize: 2 });

    expect(result).toMatchObject({ ok: true, totalPages: 7, rows: 2, rejected: [] });
    expect(result.ok && result.ndjsonAll).toBe(
      `${JSON.stringify(sensorRow)}\n${JSON.stringify({ ...sensorRow, sensor_value: null, created_at: '2026-11-24T08:00:00.000Z' })}\n`,
    );
  });

  it('finds rows and totals at nested paths, totals before or after the rows, and counts pages from items', () => {
    const shape: PageShape = {
      rowsPath: ['result', 'items'],
      total: { path: ['meta', 'count'], counts: 'items' },
      pagePath: undefined,
    };
    const body = '{"result":{"items":[{"a":1},{"a":[2,"]"]}],"next":null},"meta":{"count":2501}}';

    const result = parsePageBody(split(body, [3, 17, 30]), options({ shape, pageSize: 2 }));

    expect(result).toMatchObject({ ok: true, totalPages: 1251, rows: 2 });
  });

  it.each([
    ['an empty body', '', 'truncated'],
    ['a body cut inside a row', '{"page":1,"total_pages":1,"data":[{"a":1},{"a"', 'truncated'],
    ['a body cut after the rows', '{"page":1,"total_pages":1,"data":[{"a":1}]', 'truncated'],
    ['HTML', '<html>bad gateway</html>', 'markup'],
    ['HTML after white space', '\r\n  <!doctype html><html>sign in</html>', 'markup'],
    ['a less-than sign that is not first', '{"page":1,"total_pages":1,<"data":[]}', 'malformed'],
    ['a row that is not JSON', '{"page":1,"total_pages":1,"data":[{"a":1},{a:2}]}', 'malformed'],
    ['a stray comma', '{"page":1,"total_pages":1,"data":[{"a":1},,{"a":2}]}', 'malformed'],
    ['a trailing comma', '{"page":1,"total_pages":1,"data":[{"a":1},]}', 'malformed'],
    ['rows closed by a brace', '{"page":1,"total_pages":1,"data":[{"a":1}}}', 'malformed'],
    ['trailing garbage', '{"page":1,"total_pages":1,"data":[]} x', 'malformed'],
    ['no rows', '{"page":1,"total_pages":1}', 'envelope'],
    ['rows that are not an array', '{"page":1,"total_pages":1,"data":{}}', 'envelope'],
    ['rows twice', '{"page":1,"total_pages":1,"data":[],"data":[]}', 'envelope'],
    ['no total_pages', '{"page":1,"data":[]}', 'envelope'],
    ['a negative total_pages', '{"page":1,"total_pages":-1,"data":[]}', 'envelope'],
    ['a fractional total_pages', '{"page":1,"total_pages":1.5,"data":[]}', 'envelope'],
    ['an array body', '[{"a":1}]', 'envelope'],
    ['another page', '{"page":2,"total_pages":3,"data":[]}', 'wrong-page'],
  ])('refuses %s as %s', (_what, body, kind) => {
    expect(parsePageBody([body], options())).toMatchObject({ ok: false, failure: { kind } });
  });

  it.each([
    [
      'rows on page 1 of total_pages 0',
      { page: 1, pageSize: 2 },
      '{"page":1,"total_pages":0,"data":[{"a":1}]}',
      'total_pages is 0, yet page 1 has 1 row(s)',
    ],
    [
      'rows on a page past the last',
      { page: 4, pageSize: 2 },
      '{"page":4,"total_pages":3,"data":[{"a":1},{"a":2}]}',
      'total_pages is 3, yet page 4 has 2 row(s)',
    ],
    [
      'a short page before the last (the API caps its page size below ours)',
      { page: 1, pageSize: 3 },
      '{"page":1,"total_pages":2,"data":[{"a":1},{"a":2}]}',
      'page 1 of 2 has 2 row(s), fewer than the 3 asked',
    ],
    [
      'a last page whose rows disagree with the item count',
      { page: 2, pageSize: 2, shape: { ...seedShape, total: { path: ['total'], counts: 'items' as const } } },
      '{"page":2,"total":3,"data":[{"a":1},{"a":2}]}',
      'total is 3 items: page 2 of 2 should have 1 row(s), it has 2',
    ],
  ])('refuses %s as inconsistent', (_what, overrides, body, message) => {
    expect(parsePageBody([body], options(overrides))).toMatchObject({
      ok: false,
      failure: { kind: 'inconsistent', message: expect.stringContaining(message) },
    });
  });

  it('takes a last page of any size, and an empty last page of an empty night', () => {
    for (const body of [
      '{"page":2,"total_pages":2,"data":[{"a":1}]}',
      '{"page":1,"total_pages":0,"data":[]}',
      '{"page":3,"total_pages":2,"data":[]}',
    ]) {
      const page = Number(/"page":(\d+)/.exec(body)?.[1]);
      expect(parsePageBody([body], options({ page, pageSize: 2 }))).toMatchObject({ ok: true });
    }
  });

  it('refuses more rows than the page size', () => {
    const body = `{"page":1,"total_pages":1,"data":[${'{"a":1},'.repeat(5)}{"a":1}]}`;
    expect(parsePageBody([body], options({ pageSize: 5 }))).toMatchObject({
      ok: false,
      failure: { kind: 'oversized', message: 'more rows than the page size (5)' },
    });
  });

  it('names the row that is not JSON', () => {
    const body = '{"page":1,"total_pages":1,"data":[{"a":1},{"a":2},{"a":}]}';
    expect(parsePageBody([body], options())).toMatchObject({
      ok: false,
      failure: { kind: 'malformed', message: 'row 2 is not valid JSON' },
    });
  });

  it('quarantines a few rows that break the schema, with their index and reason but not their values', () => {
    const rows = Array.from({ length: 200 }, (_, i) => ({
      ...sensorRow,
      timestamp: sensorRow.timestamp + i,
    }));
    rows[17] = { ...sensorRow, timestamp: 'yesterday' as unknown as number };
    const body = JSON.stringify({ page: 1, total_pages: 1, data: rows });

    const result = parsePageBody([body], {
      ...sensors,
      invalidRows: { action: 'quarantine', maxShare: 0.01 },
    });

    expect(result).toMatchObject({ ok: true, rows: 199 });
    expect(result.ok && result.rejected).toEqual([
      {
        index: 17,
        reason: 'timestamp: Invalid input: expected number, received string',
        row: JSON.stringify(rows[17]),
      },
    ]);
    expect(linesOf(result.ok ? result.ndjsonAll : '')).toHaveLength(199);
  });

  it('fails the page when more than the allowed share of rows break the schema', () => {
    const rows = Array.from({ length: 100 }, () => ({ ...sensorRow }));
    rows[3] = { ...sensorRow, vehicle_id: '' };
    rows[50] = { ...sensorRow, vehicle_id: '' };
    const body = JSON.stringify({ page: 1, total_pages: 1, data: rows });

    const result = parsePageBody([body], {
      ...sensors,
      invalidRows: { action: 'quarantine', maxShare: 0.01 },
    });

    expect(result).toMatchObject({
      ok: false,
      failure: {
        kind: 'invalid-rows',
        message: expect.stringMatching(/^2 of 100 rows break the row schema.*row 3: vehicle_id/),
      },
    });
  });

  it('fails the page on the first bad row when invalid rows fail pages', () => {
    const body = JSON.stringify({
      page: 1,
      total_pages: 1,
      data: [sensorRow, { ...sensorRow, sensor_value: 'x' }],
    });
    expect(parsePageBody([body], { ...sensors, invalidRows: { action: 'fail', maxShare: 0 } })).toMatchObject(
      {
        ok: false,
        failure: { kind: 'invalid-rows', message: expect.stringMatching(/^row 1: sensor_value/) },
      },
    );
  });

  it('rejects a row whose check throws, instead of throwing', () => {
    const throwing: RowCheck = (row) => {
      if (row === 2) throw new RangeError('Invalid time value');
      return { ok: true, row };
    };
    const body = '{"page":1,"total_pages":1,"data":[1,2,3]}';
    expect(
      parsePageBody(
        [body],
        options({ checkRow: throwing, invalidRows: { action: 'quarantine', maxShare: 0.5 } }),
      ),
    ).toMatchObject({
      ok: true,
      rows: 2,
      rejected: [{ index: 1, reason: 'the row check failed (RangeError)', row: '2' }],
    });
  });

  it('reads total_pages without checking rows when it only counts (planning)', () => {
    const body = JSON.stringify({ page: 1, total_pages: 4, data: [{ not: 'a sensor row' }] });
    expect(parsePageBody([body], options({ checkRow: undefined, pageSize: 1 }))).toMatchObject({
      ok: true,
      totalPages: 4,
      rows: 0,
    });
  });

  it('refuses an envelope or a row beyond its size limit', () => {
    const bigEnvelope = `{"page":1,"total_pages":1,"note":"${'x'.repeat(100)}","data":[]}`;
    const bigRow = `{"page":1,"total_pages":1,"data":[{"a":"${'x'.repeat(100)}"}]}`;
    expect(parsePageBody([bigEnvelope], options({ maxEnvelopeChars: 64 }))).toMatchObject({
      ok: false,
      failure: { kind: 'oversized' },
    });
    expect(parsePageBody(split(bigRow, [130]), options({ maxRowChars: 64 }))).toMatchObject({
      ok: false,
      failure: { kind: 'oversized', message: 'row 0 is larger than 64 characters' },
    });
  });
});
