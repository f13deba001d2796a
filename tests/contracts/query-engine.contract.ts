import type { QueryEngine, StatementContext, StatementResult } from '../../services/ports/query-engine.js';
import { isRetryable } from '../../services/shared/errors.js';
import { type AdapterFixture, describeContract } from './adapter-fixture.js';

export interface QueryEngineUnderTest {
  engine: QueryEngine;
  /** The Glue database (Athena) or catalog schema (DuckDB) the statements name. */
  database: string;
  /** Where this case's raw pages live and its tables may write: an `s3://` or `file://` URL without a slash. */
  rawLocation: string;
  warehouseLocation: string;
  /** Lands a raw page as the downloader does, at a key under `rawLocation`. */
  putRaw(key: string, ndjson: string): Promise<void>;
  /** A name no other case uses, for this case's tables. */
  tablePrefix: string;
}

const RUN = '2026-11-24';

const vehicles = Array.from({ length: 30 }, (_, i) => ({
  vehicle_id: `v-${String(i).padStart(3, '0')}`,
  vehicle_type: ['bus', 'car', 'truck'][i % 3],
  created_at: `2026-11-24T0${i % 10}:00:00Z`,
}));
const ndjson = (rows: readonly object[]) => `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected the statement to fail');
  return error;
}

/**
 * A case's statements, with `@database`, `@raw`, `@warehouse` and `@t` (its table prefix) filled in, run in
 * order as the query runner runs a file's statements.
 */
function session(under: QueryEngineUnderTest, file = '10_case.sql', attempt = 'event-1') {
  const fill = (sql: string) =>
    sql
      .replaceAll('@database', under.database)
      .replaceAll('@raw', under.rawLocation)
      .replaceAll('@warehouse', under.warehouseLocation)
      .replaceAll('@t', under.tablePrefix);
  let statementIndex = 0;
  return {
    fill,
    run: (sql: string, context: Partial<StatementContext> = {}): Promise<StatementResult> =>
      under.engine.execute(fill(sql), {
        runId: RUN,
        file,
        statementIndex: statementIndex++,
        attempt,
        ...context,
      }),
  };
}

const rawTable = `CREATE EXTERNAL TABLE IF NOT EXISTS @database.@traw_vehicles (
  vehicle_id string,
  vehicle_type string,
  created_at string
)
PARTITIONED BY (run string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '@raw/@tvehicles/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.run.type' = 'injected',
  'storage.location.template' = '@raw/@tvehicles/run=\${run}/'
)`;

const warehouseTable = `CREATE EXTERNAL TABLE IF NOT EXISTS @database.@tvehicles_data (
  vehicle_id string,
  created_at timestamp
)
PARTITIONED BY (vehicle_type string)
STORED AS PARQUET
LOCATION '@warehouse/@tvehicles_data/'
TBLPROPERTIES ('parquet.compression' = 'SNAPPY')`;

const insertRun = `INSERT INTO @database.@tvehicles_data
SELECT vehicle_id, CAST(from_iso8601_timestamp(created_at) AS timestamp) AS created_at, vehicle_type
FROM @database.@traw_vehicles
WHERE run = '${RUN}'`;

const countPerType = `SELECT vehicle_type, count(*) AS vehicles FROM @database.@tvehicles_data
GROUP BY vehicle_type ORDER BY vehicle_type`;

/**
 * What the query runner relies on, whether Athena or DuckDB runs the Athena SQL of queries/: the same answers with
 * the same types, Trino's semantics, re-runnable writes, and failures that say where and whether to retry
 * (services/ports/query-engine.ts).
 */
export function queryEngineContract(fixture: AdapterFixture<QueryEngineUnderTest>): void {
  describeContract('QueryEngine', fixture, (fresh) => {
    it('answers a query with its columns in order and values typed as JSON, with Trino’s semantics', async () => {
      const { run } = session(await fresh());

      const answer = await run(`SELECT 7 / 2 AS quotient, -7 / 2 AS negative, 7.0 / 2 AS exact,
        'bus' AS label, true AS flag, CAST(NULL AS varchar) AS nothing, 2.5E0 AS ratio`);

      expect(answer.result).toEqual({
        columns: ['quotient', 'negative', 'exact', 'label', 'flag', 'nothing', 'ratio'],
        rows: [
          { quotient: 3, negative: -3, exact: 3.5, label: 'bus', flag: true, nothing: null, ratio: 2.5 },
        ],
      });
      expect(answer.queryExecutionId).not.toBe('');
      expect(answer.dataScannedBytes).toBeGreaterThanOrEqual(0);
      expect(answer.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('gives dates, instants, big integers and decimals the same JSON values: exact, or text when a number would round', async () => {
      const { run } = session(await fresh());

      const answer = await run(`SELECT DATE '2026-11-24' AS day,
        TIMESTAMP '2026-11-24 01:02:03.456' AS at, TIMESTAMP '2026-11-24 23:00:00' AS whole_second,
        CAST(9007199254740993 AS bigint) AS big, CAST(42 AS bigint) AS small,
        CAST(1.10 AS decimal(5, 2)) AS price, CAST('12345678901234567.25' AS decimal(20, 2)) AS long_price,
        CAST(3 AS double) AS whole, CAST(2 AS integer) AS int, CAST(5 AS smallint) AS short`);

      // Instants in ISO 8601 with their zone, so that no reader takes them for local time.
      expect(answer.result?.rows).toEqual([
        {
          day: '2026-11-24',
          at: '2026-11-24T01:02:03.456Z',
          whole_second: '2026-11-24T23:00:00.000Z',
          big: '9007199254740993',
          small: 42,
          price: 1.1,
          long_price: '12345678901234567.25',
          whole: 3,
          int: 2,
          short: 5,
        },
      ]);
    });

    it('sorts NULLs last in both directions, as Trino does', async () => {
      const { run } = session(await fresh());
      const values = 'FROM (VALUES (1), (NULL), (2)) AS t(x)';
      expect((await run(`SELECT x ${values} ORDER BY x`)).result?.rows).toEqual([
        { x: 1 },
        { x: 2 },
        { x: null },
      ]);
      expect((await run(`SELECT x ${values} ORDER BY x DESC`)).result?.rows).toEqual([
        { x: 2 },
        { x: 1 },
        { x: null },
      ]);
    });

    it('reads the raw pages of one run through an external JSON table with an injected run partition', async () => {
      const under = await fresh();
      const { run } = session(under);
      await under.putRaw(
        `${under.tablePrefix}vehicles/run=${RUN}/page-00001.ndjson`,
        ndjson(vehicles.slice(0, 20)),
      );
      await under.putRaw(
        `${under.tablePrefix}vehicles/run=${RUN}/page-00002.ndjson`,
        ndjson(vehicles.slice(20)),
      );
      await under.putRaw(`${under.tablePrefix}vehicles/run=2026-11-23/page-00001.ndjson`, ndjson(vehicles));

      await run('CREATE DATABASE IF NOT EXISTS @database');
      const created = await run(rawTable);
      const answer = await run(`SELECT vehicle_type, count(*) AS vehicles, min(vehicle_id) AS first
        FROM @database.@traw_vehicles WHERE run = '${RUN}' GROUP BY vehicle_type ORDER BY vehicle_type`);

      expect(created.result).toBeUndefined();
      expect(answer.result?.rows).toEqual([
        { vehicle_type: 'bus', vehicles: 10, first: 'v-000' },
        { vehicle_type: 'car', vehicles: 10, first: 'v-001' },
        { vehicle_type: 'truck', vehicles: 10, first: 'v-002' },
      ]);
    });

    it('replaces the run’s rows when its write runs again, redelivered or re-run, never appending them twice', async () => {
      const under = await fresh();
      await under.putRaw(`${under.tablePrefix}vehicles/run=${RUN}/page-00001.ndjson`, ndjson(vehicles));
      const first = session(under, '20_vehicles_data.sql', 'event-1');
      await first.run('CREATE DATABASE IF NOT EXISTS @database');
      await first.run(rawTable);
      await first.run(warehouseTable);
      const write = await first.run(insertRun);
      expect(write.result).toBeUndefined();
      const expected = [
        { vehicle_type: 'bus', vehicles: 10 },
        { vehicle_type: 'car', vehicles: 10 },
        { vehicle_type: 'truck', vehicles: 10 },
      ];
      const counted = async () => (await first.run(countPerType, { file: '90_check.sql' })).result?.rows;
      expect(await counted()).toEqual(expected);

      // The same event delivered again: the same statement of the same attempt.
      await under.engine.execute(first.fill(insertRun), {
        runId: RUN,
        file: '20_vehicles_data.sql',
        statementIndex: 3,
        attempt: 'event-1',
      });
      expect(await counted()).toEqual(expected);

      // The night run again: a new attempt replaces what the first one wrote.
      await under.engine.execute(first.fill(insertRun), {
        runId: RUN,
        file: '20_vehicles_data.sql',
        statementIndex: 3,
        attempt: 'event-2',
      });
      expect(await counted()).toEqual(expected);
    });

    it('fails a statement on a table that does not exist, naming the file and statement, as not retryable', async () => {
      const { run } = session(await fresh(), '30_sensor_data.sql');
      const error = await failureOf(run('SELECT count(*) FROM @database.@tmissing_table'));
      expect(isRetryable(error)).toBe(false);
      expect(error.message).toMatch(/30_sensor_data\.sql/);
      expect(error.message).toMatch(/statement 0/);
    });

    it('refuses a statement context that does not identify the statement, before running anything', async () => {
      const { engine } = await fresh();
      const error = await failureOf(
        engine.execute('SELECT 1', { runId: 'not a run', file: '', statementIndex: -1, attempt: '' }),
      );
      expect(isRetryable(error)).toBe(false);
      expect(error.message).toMatch(/invalid statement context/);
    });
  });
}
