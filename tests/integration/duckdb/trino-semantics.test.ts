import { rm } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { trinoQueryToDuckDb } from '../../../services/adapters/local/duckdb/trino-dialect.js';
import type { JsonValue } from '../../../services/ports/query-engine.js';
import { type LocalLake, localLake, query } from './run-queries.js';

/**
 * Trino behaviours the SQL files rely on, each with the answer Athena gives. The engine must give the same
 * answer although DuckDB's own defaults differ for several of them (see the second table).
 */
const TRINO_BEHAVIOURS: readonly [string, string, Record<string, JsonValue>[]][] = [
  ['integer division truncates', 'SELECT 7 / 2 AS v', [{ v: 3 }]],
  ['integer division truncates toward zero', 'SELECT -7 / 2 AS v', [{ v: -3 }]],
  ['bigint division keeps bigint', 'SELECT 1710115199999 / 1000 AS v', [{ v: 1710115199 }]],
  ['remainder takes the sign of the dividend', 'SELECT -7 % 2 AS v', [{ v: -1 }]],
  ['double division keeps the fraction', 'SELECT CAST(1234 AS double) / 1000 AS v', [{ v: 1.234 }]],
  ['avg of integers is a double', 'SELECT avg(x) AS v FROM (VALUES 1, 2) AS t (x)', [{ v: 1.5 }]],
  [
    'from_unixtime is UTC: an hour after the epoch',
    'SELECT date(from_unixtime(3600)) AS v',
    [{ v: '1970-01-01' }],
  ],
  [
    'from_unixtime is UTC: a second before the epoch',
    'SELECT date(from_unixtime(-1)) AS v',
    [{ v: '1969-12-31' }],
  ],
  [
    'the last millisecond of a day, via integer division',
    'SELECT CAST(date(from_unixtime(1710115199999 / 1000)) AS date) AS v',
    [{ v: '2024-03-10' }],
  ],
  [
    'the first millisecond of the next day',
    'SELECT CAST(date(from_unixtime(1710115200000 / 1000)) AS date) AS v',
    [{ v: '2024-03-11' }],
  ],
  [
    'ISO 8601 with Z read as UTC and kept as UTC wall time',
    "SELECT CAST(from_iso8601_timestamp('2024-03-10T23:30:00.000Z') AS timestamp) AS v",
    [{ v: '2024-03-10T23:30:00.000Z' }],
  ],
  [
    'NULLs sort last ascending',
    'SELECT x FROM (VALUES 2, NULL, 1) AS t (x) ORDER BY x',
    [{ x: 1 }, { x: 2 }, { x: null }],
  ],
  [
    'NULLs sort last descending too',
    'SELECT x FROM (VALUES 2, NULL, 1) AS t (x) ORDER BY x DESC',
    [{ x: 2 }, { x: 1 }, { x: null }],
  ],
  [
    'max_by picks the value at the greatest key',
    "SELECT max_by(v, k) AS v FROM (VALUES ('a', 1), ('b', 3), ('c', 2)) AS t (v, k)",
    [{ v: 'b' }],
  ],
  [
    'LEAD is NULL on the last row of a partition',
    'SELECT x, LEAD(x) OVER (PARTITION BY p ORDER BY x) AS n FROM (VALUES (1, 1), (1, 5), (2, 7)) AS t (p, x) ORDER BY x',
    [
      { x: 1, n: 5 },
      { x: 5, n: null },
      { x: 7, n: null },
    ],
  ],
  ['count is a number', 'SELECT count(*) AS v FROM (VALUES 1, 2, 3) AS t (x)', [{ v: 3 }]],
];

describe('Trino behaviours on the local engine', () => {
  let lake: LocalLake;

  beforeAll(async () => {
    lake = await localLake();
  });

  afterAll(async () => {
    await lake.engine.close();
    await rm(lake.root, { recursive: true, force: true });
  });

  it.each(TRINO_BEHAVIOURS)('%s', async (_name, trino, rows) => {
    expect(await query(lake.engine, trino)).toEqual(rows);
  });
});

/**
 * The same Trino text on a DuckDB session left at its defaults gives other answers: this is why the engine
 * pins its session (duckdb-query-engine.ts), and why these behaviours are tested at all.
 */
describe('DuckDB defaults the engine has to override', () => {
  it.each([
    ['integer division', 'SELECT 7 / 2 AS v', [], [{ v: 3.5 }]],
    [
      'the session time zone',
      'SELECT date(from_unixtime(3600)) AS v',
      ["SET TimeZone = 'America/Los_Angeles'"],
      [{ v: '1969-12-31' }],
    ],
  ])('%s', async (_name, trino, settings, plainDuckDbRows) => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      for (const setting of settings) {
        await connection.run(setting);
      }
      const reader = await connection.runAndReadAll(trinoQueryToDuckDb(trino));
      expect(reader.getRowObjectsJson()).toEqual(plainDuckDbRows);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
