import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StatementResult } from '../../../services/ports/query-engine.js';
import { rawPageKey } from '../../../services/shared/lake-keys.js';
import { landNight } from '../../helpers/nights-with-late-readings.js';
import { type LocalLake, localLake } from './run-queries.js';

/**
 * The local engine's dataScannedBytes (services/adapters/local/duckdb/scan-meter.ts): the bytes DuckDB read from
 * the lake for the statement, as Athena bills them: whole JSON files of the partitions a query keeps, only the
 * Parquet column chunks it reads, nothing for a statement that reads no table.
 */
describe('bytes scanned by a statement on the local engine', () => {
  let lake: LocalLake;
  let step = 0;
  const run = (sql: string): Promise<StatementResult> => {
    step += 1;
    return lake.engine.execute(sql, {
      runId: '2026-11-02',
      file: 'meter.sql',
      statementIndex: step,
      attempt: 'a',
    });
  };
  const readings = (night: number) =>
    Array.from({ length: 5_000 }, (_, i) => ({
      vehicle_id: `V${i % 50}`,
      timestamp: Date.parse(`2026-11-0${night}T00:00:00Z`) + i * 1_000,
      sensor_value: i % 7,
      created_at: `2026-11-0${night}T00:00:00.000Z`,
    }));

  beforeAll(async () => {
    lake = await localLake();
    for (const night of [1, 2]) {
      await landNight(lake.rawRoot, {
        runId: `2026-11-0${night}`,
        vehicles: [],
        sensorPages: [readings(night)],
      });
    }
    const raw = pathToFileURL(lake.rawRoot).href;
    const warehouse = pathToFileURL(lake.warehouseRoot).href;
    await run('CREATE DATABASE IF NOT EXISTS fleet');
    await run(`CREATE EXTERNAL TABLE fleet.raw (vehicle_id string, \`timestamp\` bigint, sensor_value double)
      PARTITIONED BY (run string) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
      LOCATION '${raw}/sensors/'`);
    await run(`CREATE EXTERNAL TABLE fleet.wide (vehicle_id string, \`timestamp\` bigint, sensor_value double)
      PARTITIONED BY (run string) STORED AS PARQUET LOCATION '${warehouse}/wide/'
      TBLPROPERTIES ('parquet.compression' = 'SNAPPY')`);
  });

  afterAll(async () => {
    await lake?.engine.close();
    if (lake) await rm(lake.root, { recursive: true, force: true });
  });

  it('counts the whole JSON files of the partitions the query keeps, and no other', async () => {
    const page = await stat(join(lake.rawRoot, rawPageKey('sensors', '2026-11-02', 1)));
    const one = await run("SELECT count(*) AS n FROM fleet.raw WHERE run = '2026-11-02'");
    expect(one.result?.rows).toEqual([{ n: 5_000 }]);
    expect(one.dataScannedBytes).toBe(page.size);
    const both = await run('SELECT count(vehicle_id) AS n FROM fleet.raw');
    expect(both.dataScannedBytes).toBe(
      page.size + (await stat(join(lake.rawRoot, rawPageKey('sensors', '2026-11-01', 1)))).size,
    );
  });

  it('counts the Parquet columns read, not the whole files, and nothing for a statement that reads no table', async () => {
    const written = await run(
      'INSERT INTO fleet.wide SELECT vehicle_id, "timestamp", sensor_value, run FROM fleet.raw',
    );
    expect(written.dataScannedBytes).toBeGreaterThan(0);
    const oneColumn = await run('SELECT sum("timestamp") AS s FROM fleet.wide');
    const threeColumns = await run(
      'SELECT sum("timestamp") AS s, count(vehicle_id) AS v, sum(sensor_value) AS x FROM fleet.wide',
    );
    expect(oneColumn.dataScannedBytes).toBeGreaterThan(0);
    expect(threeColumns.dataScannedBytes).toBeGreaterThan(oneColumn.dataScannedBytes);
    const onePartition = await run('SELECT sum("timestamp") AS s FROM fleet.wide WHERE run = \'2026-11-01\'');
    expect(onePartition.dataScannedBytes).toBeGreaterThan(0);
    expect(onePartition.dataScannedBytes).toBeLessThan(oneColumn.dataScannedBytes);
    expect((await run('SELECT 1 AS one')).dataScannedBytes).toBe(0);
  });
});
