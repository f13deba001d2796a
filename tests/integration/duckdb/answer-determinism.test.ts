import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JsonValue } from '../../../services/ports/query-engine.js';
import { renderPlaceholders, splitStatements } from '../../../services/shared/sql-text.js';
import { type LocalLake, localLake, query } from './run-queries.js';

/**
 * queries/40_avg_seconds_between_measurements.sql gives the same answer, to the last bit, every time it runs on
 * the same data; so does the full-history form it replaced (tests/helpers/full-history-answer.sql), which reads
 * sensor_data where 40 reads its per-vehicle-day summary (docs/decisions/0088). With avg() over the vehicles' averages (doubles), DuckDB's parallel workers added them in a
 * different order on each run, and the answer's last digits moved: on this table, 4 different answers in 5
 * runs. That only shows once the vehicles are too many for one worker, hence 300,000 of them.
 */

const RUN = '2026-11-24';
const VEHICLES = 300_000;
const TYPES = ['bus', 'car', 'van', 'truck'] as const;

/**
 * Two readings per vehicle k, at 74k ms and (2k + 1) * 37 + ((2k + 1) % 9973) * 1000 ms: an interval of
 * 37 + ((2k + 1) % 9973) * 1000 ms. Vehicle k is of type TYPES[k % 4]; plain types are their own partition keys
 * (services/shared/lake-keys.ts).
 */
const SENSOR_ROWS = `INSERT INTO fleet.sensor_data
SELECT
  'v' || CAST(i / 2 AS varchar) AS vehicle_id,
  CAST(i * 37 + (i % 2) * (i % 9973) * 1000 AS bigint) AS "timestamp",
  CAST(1.5 AS double) AS sensor_value,
  CASE (i / 2) % 4 WHEN 0 THEN 'bus' WHEN 1 THEN 'car' WHEN 2 THEN 'van' ELSE 'truck' END AS vehicle_type,
  DATE '${RUN}' AS days,
  CASE (i / 2) % 4 WHEN 0 THEN 'bus' WHEN 1 THEN 'car' WHEN 2 THEN 'van' ELSE 'truck' END AS vehicle_type_key
FROM UNNEST(sequence(0, ${2 * VEHICLES - 1})) AS t (i)`;

/** The same vehicles as queries/38 summarises them: one row per vehicle and day, its two readings. */
const SUMMARY_ROWS = `INSERT INTO fleet.vehicle_day_intervals
SELECT
  'v' || CAST(k AS varchar) AS vehicle_id,
  CASE k % 4 WHEN 0 THEN 'bus' WHEN 1 THEN 'car' WHEN 2 THEN 'van' ELSE 'truck' END AS vehicle_type,
  CAST(2 * k * 37 AS bigint) AS first_ms,
  CAST((2 * k + 1) * 37 + ((2 * k + 1) % 9973) * 1000 AS bigint) AS last_ms,
  CAST(2 AS bigint) AS measurements,
  '${RUN}' AS run,
  DATE '${RUN}' AS days
FROM UNNEST(sequence(0, ${VEHICLES - 1})) AS t (k)`;

/** The answer computed apart, exactly: each type's intervals add up to a whole number of milliseconds. */
function independentAnswer(): Record<string, JsonValue>[] {
  return TYPES.map((type, t) => {
    let sumMs = 0n;
    let vehicles = 0;
    for (let k = t; k < VEHICLES; k += 4) {
      sumMs += BigInt(37 + ((2 * k + 1) % 9973) * 1000);
      vehicles += 1;
    }
    return {
      vehicle_type: type,
      avg_seconds_between_measurements: Number(sumMs) / 1000 / vehicles,
      vehicles,
    };
  }).sort((a, b) => (a.vehicle_type < b.vehicle_type ? -1 : 1));
}

describe.each([
  ['queries/40, from the per-vehicle-day summary', 'summary'],
  ['the full-history form, from sensor_data', 'full'],
] as const)('the analytics answer on the same data, run after run: %s', (_, form) => {
  let lake: LocalLake;
  let analytics: string;

  beforeAll(async () => {
    lake = await localLake();
    const warehouse = pathToFileURL(lake.warehouseRoot).href;
    const context = { runId: RUN, file: 'setup.sql', attempt: 'setup' };
    const values = {
      database: 'fleet',
      raw_location: 'file:///unused',
      warehouse_location: warehouse,
      run_id: RUN,
      run_date: RUN,
    };
    const statementsOf = async (path: string) =>
      splitStatements(renderPlaceholders(await readFile(join(process.cwd(), path), 'utf8'), values));
    // The production tables (the first statement of queries/30 and 38), filled with generated rows.
    const [createTable = ''] = await statementsOf(
      form === 'full' ? 'queries/30_sensor_data.sql' : 'queries/38_vehicle_day_intervals.sql',
    );
    await lake.engine.execute('CREATE DATABASE IF NOT EXISTS fleet', { ...context, statementIndex: 0 });
    await lake.engine.execute(createTable, { ...context, statementIndex: 1 });
    await lake.engine.execute(form === 'full' ? SENSOR_ROWS : SUMMARY_ROWS, {
      ...context,
      statementIndex: 2,
    });
    [analytics = ''] = await statementsOf(
      form === 'full'
        ? 'tests/helpers/full-history-answer.sql'
        : 'queries/40_avg_seconds_between_measurements.sql',
    );
  }, 120_000);

  afterAll(async () => {
    await lake?.engine.close();
    if (lake) await rm(lake.root, { recursive: true, force: true });
  });

  it('is identical, bit for bit (===), in five runs', async () => {
    // Act
    const answers: Record<string, JsonValue>[][] = [];
    for (let run = 0; run < 5; run++) answers.push(await query(lake.engine, analytics));

    // Assess
    const [first, ...others] = answers;
    expect(first).toHaveLength(TYPES.length);
    for (const other of others) {
      expect(other).toHaveLength(first?.length ?? 0);
      other.forEach((row, index) => {
        const same = first?.[index];
        expect(row.vehicle_type === same?.vehicle_type).toBe(true);
        expect(row.vehicles === same?.vehicles).toBe(true);
        expect(row.avg_seconds_between_measurements === same?.avg_seconds_between_measurements).toBe(true);
      });
    }
  }, 120_000);

  it('agrees with the answer computed apart', async () => {
    const answer = await query(lake.engine, analytics);
    const expected = independentAnswer();
    expect(answer.map((row) => [row.vehicle_type, row.vehicles])).toEqual(
      expected.map((row) => [row.vehicle_type, row.vehicles]),
    );
    answer.forEach((row, index) => {
      expect(row.avg_seconds_between_measurements).toBeCloseTo(
        Number(expected[index]?.avg_seconds_between_measurements),
        9,
      );
    });
  }, 120_000);
});
