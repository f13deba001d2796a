import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  AthenaRuleError,
  LocalQueryError,
  UnsupportedStatementError,
} from '../../../services/adapters/local/duckdb/bridge-errors.js';
import { isRetryable } from '../../../services/shared/errors.js';
import { filesUnder, type LocalLake, localLake, query } from './run-queries.js';

const context = (runId: string, statementIndex = 0) => ({
  runId,
  file: '90_test.sql',
  statementIndex,
  attempt: 'test',
});

describe('local DuckDB engine', () => {
  let lake: LocalLake;
  let warehouse: string;

  beforeAll(async () => {
    lake = await localLake();
    warehouse = pathToFileURL(lake.warehouseRoot).href;
    await lake.engine.execute('CREATE DATABASE IF NOT EXISTS fleet', context('setup'));
  });

  afterAll(async () => {
    await lake.engine.close();
    await rm(lake.root, { recursive: true, force: true });
  });

  const execute = (sql: string, runId = 'setup') => lake.engine.execute(sql, context(runId));

  describe('external JSON tables', () => {
    const folder = () => join(lake.rawRoot, 'events');

    beforeAll(async () => {
      await execute(
        'CREATE EXTERNAL TABLE fleet.events (id string, n bigint) PARTITIONED BY (run string) ' +
          `ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION '${pathToFileURL(folder()).href}/'`,
      );
    });

    it('read as an empty table while their location has no file yet', async () => {
      expect(await query(lake.engine, 'SELECT id, n, run FROM fleet.events')).toEqual([]);
    });

    it('see files as soon as they land, and typed partition values from folder names', async () => {
      await mkdir(join(folder(), 'run=2024-03-10'), { recursive: true });
      // A page of a window without rows is an empty file.
      await writeFile(join(folder(), 'run=2024-03-10', 'page-00002.ndjson'), '');
      await writeFile(
        join(folder(), 'run=2024-03-10', 'page-00001.ndjson'),
        '{"id":"a","n":1,"extra":true}\n{"id":"b"}\n',
      );
      expect(
        await query(lake.engine, "SELECT id, n, run FROM fleet.events WHERE run = '2024-03-10' ORDER BY id"),
      ).toEqual([
        { id: 'a', n: 1, run: '2024-03-10' },
        { id: 'b', n: null, run: '2024-03-10' },
      ]);
    });

    it('ignore the temporary files of writes in progress', async () => {
      await writeFile(join(folder(), 'run=2024-03-10', '.page-00002.ndjson.1234.tmp'), '{"id":"half');
      expect(await query(lake.engine, 'SELECT count(*) AS n FROM fleet.events')).toEqual([{ n: 2 }]);
    });

    it('read as empty again when their last file is gone', async () => {
      await rm(folder(), { recursive: true });
      expect(await query(lake.engine, 'SELECT count(*) AS n FROM fleet.events')).toEqual([{ n: 0 }]);
    });

    it('are created once: IF NOT EXISTS is a no-op, without it Athena refuses', async () => {
      const ddl = `CREATE EXTERNAL TABLE fleet.events (id string) STORED AS PARQUET LOCATION '${warehouse}/other'`;
      await expect(execute(ddl)).rejects.toThrow(/AlreadyExistsException/);
      await execute(ddl.replace('TABLE', 'TABLE IF NOT EXISTS'));
      expect(await query(lake.engine, 'SELECT id, n, run FROM fleet.events')).toEqual([]);
    });
  });

  describe('INSERT INTO a partitioned Parquet table', () => {
    beforeAll(async () => {
      await execute(
        `CREATE TABLE fleet.points WITH (format = 'PARQUET', write_compression = 'SNAPPY', ` +
          `partitioned_by = ARRAY['day'], external_location = '${warehouse}/points/') ` +
          'AS SELECT CAST(NULL AS bigint) AS x, CAST(NULL AS date) AS day WITH NO DATA',
      );
    });

    const insert = (runId: string, values: string) =>
      execute(
        `INSERT INTO fleet.points SELECT x, CAST(d AS date) FROM (VALUES ${values}) AS t (x, d)`,
        runId,
      );
    const points = () => query(lake.engine, 'SELECT x, day FROM fleet.points ORDER BY x');

    it('replaces what the same run wrote before, and appends what another run writes', async () => {
      await insert('run-a', "(1, '2024-03-10'), (2, '2024-03-11')");
      await insert('run-a', "(1, '2024-03-10'), (2, '2024-03-11')");
      expect(await points()).toEqual([
        { x: 1, day: '2024-03-10' },
        { x: 2, day: '2024-03-11' },
      ]);
      await insert('run-b', "(3, '2024-03-11')");
      await insert('run-a', "(4, '2024-03-12')");
      expect(await points()).toEqual([
        { x: 3, day: '2024-03-11' },
        { x: 4, day: '2024-03-12' },
      ]);
      expect(await filesUnder(join(lake.warehouseRoot, 'points'))).toEqual([
        'day=2024-03-11/run-run-b_0.parquet',
        'day=2024-03-12/run-run-a_0.parquet',
      ]);
    });

    it('maps query columns to table columns by position and casts them to the declared types', async () => {
      await execute("INSERT INTO fleet.points SELECT '7', '2024-03-13'", 'run-c');
      expect(await points()).toContainEqual({ x: 7, day: '2024-03-13' });
      await execute("INSERT INTO fleet.points (day) SELECT DATE '2024-03-14'", 'run-d');
      expect(await points()).toContainEqual({ x: null, day: '2024-03-14' });
    });

    it('refuses a query with the wrong number of columns, before deleting anything', async () => {
      const before = await points();
      await expect(execute('INSERT INTO fleet.points SELECT 1', 'run-a')).rejects.toThrow(
        /mismatched column count/,
      );
      expect(await points()).toEqual(before);
    });

    it('writes more than 100 partitions in one INSERT, which the Athena engine splits in batches', async () => {
      const many =
        "INSERT INTO fleet.points SELECT i, date_add('day', i, DATE '2024-01-01') FROM UNNEST(sequence(0, 100)) AS t (i)";
      await execute(many, 'run-many');
      const written = (await filesUnder(join(lake.warehouseRoot, 'points'))).filter((f) =>
        f.includes('run-many'),
      );
      expect(written).toHaveLength(101);
      expect(written[0]).toBe('day=2024-01-01/run-run-many_0.parquet');
    });

    it('refuses a table the engine does not know', async () => {
      await expect(execute('INSERT INTO fleet.nowhere SELECT 1')).rejects.toThrow(/TABLE_NOT_FOUND/);
    });
  });

  describe('INSERT INTO a Parquet table declared with Hive DDL (docs/decisions/0076)', () => {
    const hiveTable = (name: string, properties: string) =>
      `CREATE EXTERNAL TABLE IF NOT EXISTS fleet.${name} (x bigint, label string) ` +
      `PARTITIONED BY (day date, kind string) STORED AS PARQUET LOCATION '${warehouse}/${name}/'${properties}`;
    const ctasTable = (name: string) =>
      `CREATE TABLE IF NOT EXISTS fleet.${name} WITH (format = 'PARQUET', write_compression = 'SNAPPY', ` +
      `partitioned_by = ARRAY['day', 'kind'], external_location = '${warehouse}/${name}/') AS SELECT ` +
      'CAST(NULL AS bigint) AS x, CAST(NULL AS varchar) AS label, CAST(NULL AS date) AS day, ' +
      'CAST(NULL AS varchar) AS kind WITH NO DATA';
    const fill = (table: string, runId: string, values: string) =>
      execute(
        `INSERT INTO fleet.${table} SELECT x, label, CAST(d AS date), kind FROM (VALUES ${values}) AS t (x, label, d, kind)`,
        runId,
      );
    /** Each file below the table's folder with its bytes, so two tables can be compared file by file. */
    const contents = async (table: string) => {
      const folder = join(lake.warehouseRoot, table);
      const files = await filesUnder(folder);
      return Promise.all(files.map(async (file) => [file, await readFile(join(folder, file))] as const));
    };
    const codecs = (table: string) =>
      query(
        lake.engine,
        `SELECT DISTINCT compression FROM parquet_metadata('${join(lake.warehouseRoot, table, '**', '*.parquet')}')`,
      );
    const NIGHT_A =
      "(1, 'a', '2024-03-10', 'bus'), (2, 'b', '2024-03-10', 'van'), (3, 'c', '2024-03-11', 'bus')";
    const NIGHT_B = "(4, 'd', '2024-03-11', 'bus')";

    it('writes the same files, byte for byte, as the CTAS WITH NO DATA of the same shape, re-runs included', async () => {
      await execute(hiveTable('hive_points', " TBLPROPERTIES ('parquet.compression' = 'SNAPPY')"));
      await execute(ctasTable('ctas_points'));
      for (const table of ['hive_points', 'ctas_points']) {
        await fill(table, 'night-a', NIGHT_A);
        await fill(table, 'night-b', NIGHT_B);
        // Night a again, with one row fewer: its earlier files are replaced, night b's are kept.
        await fill(table, 'night-a', "(1, 'a', '2024-03-10', 'bus'), (2, 'b', '2024-03-10', 'van')");
      }
      const hive = await contents('hive_points');
      expect(hive.map(([file]) => file)).toEqual([
        'day=2024-03-10/kind=bus/run-night-a_0.parquet',
        'day=2024-03-10/kind=van/run-night-a_0.parquet',
        'day=2024-03-11/kind=bus/run-night-b_0.parquet',
      ]);
      expect(hive).toEqual(await contents('ctas_points'));
      expect(await codecs('hive_points')).toEqual([{ compression: 'SNAPPY' }]);
      expect(
        await query(lake.engine, 'SELECT x, label, day, kind FROM fleet.hive_points ORDER BY x'),
      ).toEqual([
        { x: 1, label: 'a', day: '2024-03-10', kind: 'bus' },
        { x: 2, label: 'b', day: '2024-03-10', kind: 'van' },
        { x: 4, label: 'd', day: '2024-03-11', kind: 'bus' },
      ]);
    });

    it("compresses with Athena's default, GZIP, when the table declares no parquet.compression", async () => {
      await execute(hiveTable('gzip_points', ''));
      await fill('gzip_points', 'night-a', NIGHT_A);
      expect(await codecs('gzip_points')).toEqual([{ compression: 'GZIP' }]);
    });

    it('leaves a table the CTAS of an earlier release created as it was: IF NOT EXISTS, then the same writes', async () => {
      // A state folder from before decision 76: the table came from a CTAS; the DDL now finds it and does nothing.
      await execute(ctasTable('upgraded_points'));
      await fill('upgraded_points', 'night-a', NIGHT_A);
      await execute(hiveTable('upgraded_points', " TBLPROPERTIES ('parquet.compression' = 'SNAPPY')"));
      await fill('upgraded_points', 'night-b', NIGHT_B);
      await execute(hiveTable('fresh_points', " TBLPROPERTIES ('parquet.compression' = 'SNAPPY')"));
      await fill('fresh_points', 'night-a', NIGHT_A);
      await fill('fresh_points', 'night-b', NIGHT_B);
      expect(await contents('upgraded_points')).toEqual(await contents('fresh_points'));
    });

    it('refuses an INSERT whose partition values are not last, as the table declares them', async () => {
      await execute(hiveTable('typed_points', ''));
      await expect(
        execute("INSERT INTO fleet.typed_points SELECT 1, 'a', 'bus', DATE '2024-03-10'", 'night-x'),
      ).rejects.toThrow(LocalQueryError);
      expect(await filesUnder(join(lake.warehouseRoot, 'typed_points')).catch(() => [])).toEqual([]);
    });
  });

  describe('CTAS', () => {
    it('writes its rows at once WITH DATA, compressed as asked', async () => {
      await execute(
        `CREATE TABLE fleet.squares WITH (write_compression = 'ZSTD', external_location = '${warehouse}/squares') ` +
          'AS SELECT x, x * x AS sq FROM (VALUES 1, 2, 3) AS t (x)',
        'run-s',
      );
      expect(await query(lake.engine, 'SELECT sq FROM fleet.squares ORDER BY x')).toEqual([
        { sq: 1 },
        { sq: 4 },
        { sq: 9 },
      ]);
      const glob = join(lake.warehouseRoot, 'squares', '*.parquet');
      expect(
        await query(lake.engine, `SELECT DISTINCT compression FROM parquet_metadata('${glob}')`),
      ).toEqual([{ compression: 'ZSTD' }]);
    });

    it("refuses a CTAS of more than Athena's 100 partitions, and leaves no file behind", async () => {
      const ctas =
        `CREATE TABLE fleet.wide WITH (partitioned_by = ARRAY['day'], external_location = '${warehouse}/wide') ` +
        "AS SELECT i, date_add('day', i, DATE '2024-01-01') AS day FROM UNNEST(sequence(0, 100)) AS t (i)";
      const outcome = execute(ctas, 'run-wide');
      await expect(outcome).rejects.toThrow(AthenaRuleError);
      await expect(outcome).rejects.toThrow(/HIVE_TOO_MANY_OPEN_PARTITIONS: the CTAS wrote 101 partitions/);
      expect(await filesUnder(join(lake.warehouseRoot, 'wide')).catch(() => [])).toEqual([]);
      await expect(query(lake.engine, 'SELECT * FROM fleet.wide')).rejects.toThrow(/wide/);
    });

    it('refuses partition columns that are not last, as Athena does', async () => {
      const ctas =
        `CREATE TABLE fleet.bad WITH (partitioned_by = ARRAY['p'], external_location = '${warehouse}/bad') ` +
        'AS SELECT 1 AS p, 2 AS x';
      await expect(execute(ctas)).rejects.toThrow(/HIVE_COLUMN_ORDER_MISMATCH/);
    });

    it('refuses a timestamp with time zone column, which a Hive table cannot store', async () => {
      const ctas = `CREATE TABLE fleet.tz WITH (external_location = '${warehouse}/tz') AS SELECT from_unixtime(0) AS t`;
      await expect(execute(ctas)).rejects.toThrow(/NOT_SUPPORTED.*cast it to timestamp/);
    });

    it('drops a table without deleting its files, after which a CTAS into them fails as in Athena', async () => {
      await execute('DROP TABLE fleet.squares');
      await expect(query(lake.engine, 'SELECT * FROM fleet.squares')).rejects.toThrow(LocalQueryError);
      expect(await filesUnder(join(lake.warehouseRoot, 'squares'))).toEqual(['run-run-s_0.parquet']);
      const again = `CREATE TABLE fleet.squares WITH (external_location = '${warehouse}/squares') AS SELECT 1 AS x`;
      await expect(execute(again)).rejects.toThrow(/HIVE_PATH_ALREADY_EXISTS/);
      await execute('DROP TABLE IF EXISTS fleet.squares');
      await expect(execute('DROP TABLE fleet.squares')).rejects.toThrow(/TABLE_NOT_FOUND/);
    });
  });

  describe('views', () => {
    it('are created from Trino SQL, keep Trino semantics, are replaced and dropped', async () => {
      await execute(
        "CREATE VIEW fleet.labels AS SELECT x, concat('n', CAST(x AS varchar)) AS label, x / 2 AS half " +
          'FROM (VALUES 1, 4, 5) AS t (x)',
      );
      expect(await query(lake.engine, 'SELECT label, half FROM fleet.labels ORDER BY x')).toEqual([
        { label: 'n1', half: 0 },
        { label: 'n4', half: 2 },
        { label: 'n5', half: 2 },
      ]);
      await expect(execute('CREATE VIEW fleet.labels AS SELECT 1 AS x')).rejects.toThrow(/already exists/);
      await execute('CREATE OR REPLACE VIEW fleet.labels AS SELECT 1 AS x');
      expect(await query(lake.engine, 'SELECT x FROM fleet.labels')).toEqual([{ x: 1 }]);
      await execute('DROP VIEW fleet.labels');
      await execute('DROP VIEW IF EXISTS fleet.labels');
      await expect(query(lake.engine, 'SELECT x FROM fleet.labels')).rejects.toThrow(LocalQueryError);
    });
  });

  describe('result sets', () => {
    it('are JSON-safe: exact numbers, ISO dates and instants, nested values as JSON text', async () => {
      const rows = await query(
        lake.engine,
        'SELECT CAST(9007199254740993 AS bigint) AS big, CAST(12.50 AS decimal(10, 2)) AS dec, ' +
          "DATE '2024-03-10' AS d, TIMESTAMP '2024-03-10 01:02:03.456' AS ts, from_unixtime(0) AS tz, " +
          "CAST('NaN' AS double) AS nan, true AS b, NULL AS n, ARRAY[1, 2] AS arr, 'x' AS s",
      );
      expect(rows).toEqual([
        {
          big: '9007199254740993',
          dec: 12.5,
          d: '2024-03-10',
          ts: '2024-03-10T01:02:03.456Z',
          tz: '1970-01-01T00:00:00.000Z',
          nan: 'NaN',
          b: true,
          n: null,
          arr: '[1,2]',
          s: 'x',
        },
      ]);
    });

    it('are absent for statements that return none', async () => {
      const outcome = await execute('CREATE OR REPLACE VIEW fleet.one AS SELECT 1 AS x');
      expect(outcome.result).toBeUndefined();
      expect(outcome.queryExecutionId).toMatch(/^local-setup-90_test-0-[0-9a-f]{8}$/);
      expect(await query(lake.engine, 'SELECT x FROM fleet.one')).toEqual([{ x: 1 }]);
    });
  });

  describe('refusals', () => {
    it.each([
      ['two statements at once', 'SELECT 1; SELECT 2', /exactly one statement, got 2/],
      [
        'an S3 location',
        "CREATE EXTERNAL TABLE fleet.s3 (a int) STORED AS PARQUET LOCATION 's3://b/p/'",
        /file:\/\/ locations only/,
      ],
      ['a statement the bridge does not know', 'SHOW TABLES', /not supported by the local Athena bridge/],
    ])('%s', async (_name, sql, message) => {
      await expect(execute(sql)).rejects.toThrow(message);
    });

    it("caps DuckDB's memory, so that a large aggregate spills to disk instead of growing the process", async () => {
      expect(await query(lake.engine, "SELECT current_setting('memory_limit') AS v")).toEqual([
        { v: '366.2 MiB' },
      ]);
    });

    it('reports DuckDB failures as terminal, naming the file and statement', async () => {
      const failure = execute('SELECT * FROM fleet.no_such_table').catch((error: unknown) => error);
      const error = await failure;
      expect(error).toBeInstanceOf(LocalQueryError);
      expect(isRetryable(error)).toBe(false);
      expect(String(error)).toMatch(
        /90_test\.sql statement 0 \(SELECT \* FROM fleet\.no_such_table\): .*no_such_table/,
      );
    });

    it('refuses a context whose run id could not name a file', async () => {
      await expect(
        lake.engine.execute('SELECT 1', { runId: '../x', file: 'a.sql', statementIndex: 0, attempt: 'a' }),
      ).rejects.toThrow(/invalid statement context/);
    });

    it('keeps unsupported statements apart from DuckDB failures', async () => {
      await expect(execute('CREATE TABLE fleet.iceberg (a int)')).rejects.toThrow(UnsupportedStatementError);
    });
  });
});
