import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sqlSandboxOf, stateLayout } from '../../../local/runtime.js';
import {
  createDuckDbQueryEngine,
  type DuckDbQueryEngine,
} from '../../../services/adapters/local/duckdb/duckdb-query-engine.js';

const context = { runId: '2026-11-24', file: 'probe.sql', statementIndex: 0, attempt: 'a1' };

describe('the SQL sandbox of a state folder (etl run, etl sql)', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'sql-sandbox-'));
  const layout = stateLayout(stateDir);
  /** A file outside the lake, as /etc/passwd would be. */
  const outside = join(mkdtempSync(join(tmpdir(), 'outside-')), 'secret.csv');
  let engine: DuckDbQueryEngine;

  beforeAll(async () => {
    writeFileSync(outside, 'token\nhunter2\n');
    mkdirSync(join(layout.raw, 'vehicles'), { recursive: true });
    writeFileSync(
      join(layout.raw, 'vehicles', 'page-00001.ndjson'),
      '{"vehicle_id":"v1","vehicle_type":"bus"}\n',
    );
    engine = await createDuckDbQueryEngine({ databasePath: layout.duckdb, sandbox: sqlSandboxOf(layout) });
    await engine.execute('CREATE DATABASE fleet_etl', context);
  }, 30_000);

  afterAll(async () => {
    await engine.close();
  });

  it('reads the lake', async () => {
    const result = await engine.execute(
      `SELECT count(*) AS n FROM read_json('${join(layout.raw, 'vehicles')}/*.ndjson')`,
      context,
    );
    expect(result.result?.rows).toEqual([{ n: 1 }]);
  });

  it('refuses to read a file outside the lake, by any function', async () => {
    for (const call of [`read_csv('${outside}')`, `read_text('${outside}')`, `glob('${outside}')`]) {
      await expect(engine.execute(`SELECT * FROM ${call}`, context)).rejects.toThrow(/Permission Error/);
    }
    const escaping = `${layout.raw}/../../../${outside}`;
    await expect(engine.execute(`SELECT * FROM read_text('${escaping}')`, context)).rejects.toThrow(
      /Permission Error/,
    );
  });

  it('refuses a table written outside the warehouse, raw pages included, and writes nothing there', async () => {
    const elsewhere = join(mkdtempSync(join(tmpdir(), 'elsewhere-')), 't');
    for (const location of [elsewhere, join(layout.raw, 'overwritten')]) {
      await expect(
        engine.execute(
          `CREATE TABLE fleet_etl.t WITH (format = 'PARQUET', external_location = '${pathToFileURL(location).href}') AS SELECT 1 AS a`,
          context,
        ),
      ).rejects.toThrow(/outside the warehouse/);
      expect(existsSync(location)).toBe(false);
    }
  });

  it('refuses an INSERT into a Hive DDL table located outside the warehouse, and writes nothing there', async () => {
    // Declaring a table reads and writes nothing, as in Athena; writing into it is what the sandbox stops.
    const elsewhere = join(mkdtempSync(join(tmpdir(), 'elsewhere-')), 'declared');
    await engine.execute(
      `CREATE EXTERNAL TABLE fleet_etl.declared (a int) STORED AS PARQUET LOCATION '${pathToFileURL(elsewhere).href}'`,
      context,
    );
    await expect(engine.execute('INSERT INTO fleet_etl.declared SELECT 1', context)).rejects.toThrow(
      /outside the warehouse/,
    );
    expect(existsSync(elsewhere)).toBe(false);
  });

  it('writes a table below the warehouse', async () => {
    const location = pathToFileURL(join(layout.warehouse, 'ok')).href;
    await engine.execute(
      `CREATE TABLE fleet_etl.ok WITH (format = 'PARQUET', external_location = '${location}') AS SELECT 1 AS a`,
      context,
    );
    const result = await engine.execute('SELECT a FROM fleet_etl.ok', context);
    expect(result.result?.rows).toEqual([{ a: 1 }]);
  });

  it('loads no extension and cannot be lifted by a statement', async () => {
    for (const statement of ['INSTALL httpfs', 'LOAD httpfs', 'SET enable_external_access = true']) {
      await expect(engine.execute(statement, context)).rejects.toThrow();
    }
    await expect(engine.execute(`SELECT * FROM read_csv('${outside}')`, context)).rejects.toThrow(
      /Permission Error/,
    );
  });
});
