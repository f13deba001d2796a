/**
 * Which nights of a warehouse have readings in sensor_data and no row in vehicle_day_intervals, read off the
 * Parquet files the local engine names after their run (cli/unsummarised-nights.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runsMissingFromSummary } from '../../../cli/unsummarised-nights.js';

/** A Parquet file of sensor_data's data columns, as the engine writes one for `run` into a partition. */
async function sensorFile(file: string, values: readonly (number | null)[]): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const rows = values
    .map((value, i) => `('v1', ${1_767_312_000_000 + i}, ${value ?? 'NULL::DOUBLE'})`)
    .join(', ');
  await connection.run(
    `COPY (SELECT * FROM (VALUES ${rows}) AS t (vehicle_id, "timestamp", sensor_value)) TO '${file}' (FORMAT parquet)`,
  );
  connection.closeSync();
  instance.closeSync();
}

describe('runsMissingFromSummary', () => {
  let warehouse: string;

  beforeEach(() => {
    warehouse = mkdtempSync(path.join(tmpdir(), 'unsummarised-'));
  });
  afterEach(() => rmSync(warehouse, { recursive: true, force: true }));

  const partition = (table: string, day: string, type?: string) =>
    path.join(warehouse, table, `days=${day}`, ...(type === undefined ? [] : [`vehicle_type=${type}`]));

  it('names the runs with readings in sensor_data and no summary file, in order', async () => {
    // Prepare: 2026-01-03 and 2026-01-02 ran before the summary; 2026-01-04 wrote both tables, its late reading
    // of 2026-01-02 included.
    await sensorFile(
      path.join(partition('sensor_data', '2026-01-03', 'van'), 'run-2026-01-03_0.parquet'),
      [1],
    );
    await sensorFile(
      path.join(partition('sensor_data', '2026-01-02', 'van'), 'run-2026-01-02_0.parquet'),
      [1, 2],
    );
    await sensorFile(
      path.join(partition('sensor_data', '2026-01-02', 'bus'), 'run-2026-01-04_1.parquet'),
      [3],
    );
    await sensorFile(
      path.join(partition('sensor_data', '2026-01-04', 'bus'), 'run-2026-01-04_0.parquet'),
      [4],
    );
    mkdirSync(partition('vehicle_day_intervals', '2026-01-04'), { recursive: true });
    writeFileSync(
      path.join(partition('vehicle_day_intervals', '2026-01-04'), 'run-2026-01-04_0.parquet'),
      '',
    );

    // Act, Assess
    expect(await runsMissingFromSummary(warehouse)).toEqual(['2026-01-02', '2026-01-03']);
  });

  it('leaves out a run whose readings all lack a value: it has no summary row to write', async () => {
    await sensorFile(path.join(partition('sensor_data', '2026-01-05', 'van'), 'run-2026-01-05_0.parquet'), [
      null,
      null,
    ]);
    expect(await runsMissingFromSummary(warehouse)).toEqual([]);
  });

  it('is empty for a warehouse without sensor_data, and ignores files the engine did not name', async () => {
    expect(await runsMissingFromSummary(warehouse)).toEqual([]);
    mkdirSync(partition('sensor_data', '2026-01-02', 'van'), { recursive: true });
    writeFileSync(path.join(partition('sensor_data', '2026-01-02', 'van'), 'data_0.parquet'), '');
    expect(await runsMissingFromSummary(warehouse)).toEqual([]);
  });
});
