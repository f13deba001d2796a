import { rm } from 'node:fs/promises';
import fc from 'fast-check';
import { rowReader } from '../../../services/adapters/http/row-reader.js';
import { partitionKeyOf, partitionKeySql } from '../../../services/shared/lake-keys.js';
import { DEFAULT_ROWS } from '../../../services/source-config/index.js';
import { AWKWARD_VEHICLE_TYPES, SAFE_PARTITION_KEY } from '../../helpers/awkward-vehicle-types.js';
import { type RawRun, series, vehicle, writeRawRun } from './fleet-fixture.js';
import { filesUnder, type LocalLake, localLake, query, runQueryFiles } from './run-queries.js';

/**
 * Every vehicle type the row schema accepts comes back from the warehouse as itself, each its own group of the
 * answer: the type is stored as data, and the partition folder is named after its key (docs/decisions/0089). These
 * used to be quarantined (NULL, __HIVE_DEFAULT_PARTITION__, long text) or could not be told apart by a
 * case-insensitive file system (Bus, bus).
 */
let lake: LocalLake;

beforeAll(async () => {
  lake = await localLake();
});

afterAll(async () => {
  await lake.engine.close();
  await rm(lake.root, { recursive: true, force: true });
});

/** A Trino string literal of any text: NUL cannot be written inside quotes, so it is spliced in with chr(0). */
function sqlString(value: string): string {
  return value
    .split('\u0000')
    .map((part) => `'${part.replaceAll("'", "''")}'`)
    .join(' || chr(0) || ');
}

describe('vehicle types the API may send', () => {
  it('the row schema accepts every one of these types', () => {
    const read = rowReader('vehicles', DEFAULT_ROWS);
    for (const type of AWKWARD_VEHICLE_TYPES) {
      expect({ type, verdict: read(vehicle('V', type, '2024-03-10T00:00:00.000Z')) }).toMatchObject({
        type,
        verdict: { ok: true, row: { vehicle_type: type } },
      });
    }
  });

  it('get the same key from the SQL expression on DuckDB as from partitionKeyOf', async () => {
    const texts = fc.sample(
      fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.string({
          unit: fc.constantFrom('a', 'z', '0', '_', '-', 'A', '.', '\n', '\u0000', 'é'),
          maxLength: 70,
        }),
        fc.stringMatching(/^[a-z0-9_-]{1,70}$/),
      ),
      { numRuns: 400, seed: 901 },
    );
    const values = [...AWKWARD_VEHICLE_TYPES, ...texts.filter((text) => text.length > 0)];
    const rows = await query(
      lake.engine,
      `SELECT i, ${partitionKeySql('t')} AS k FROM (VALUES ${values
        .map((value, index) => `(${index}, ${sqlString(value)})`)
        .join(', ')}) AS v (i, t) ORDER BY i`,
    );
    expect(rows.map((row) => row.k)).toEqual(values.map(partitionKeyOf));
  });

  it('round-trip through vehicles_data and sensor_data, under safe folders, each its own group of the answer', async () => {
    const random = () => 0.5;
    const run: RawRun = {
      runId: '2024-03-10',
      vehicles: AWKWARD_VEHICLE_TYPES.map((type, index) =>
        vehicle(`V${index}`, type, '2024-03-10T01:00:00.000Z'),
      ),
      sensorPages: [
        AWKWARD_VEHICLE_TYPES.flatMap((_, index) =>
          series(
            {
              vehicleId: `V${index}`,
              from: '2024-03-10T02:00:00.000Z',
              count: 3,
              intervalMs: 60_000 * (index + 1),
            },
            random,
          ),
        ),
      ],
    };
    await writeRawRun(lake.rawRoot, run);

    const answer = await runQueryFiles(lake, run.runId);

    const stored = await query(
      lake.engine,
      'SELECT vehicle_id, vehicle_type, vehicle_type_key FROM fleet.vehicles_data',
    );
    expect(stored).toHaveLength(AWKWARD_VEHICLE_TYPES.length);
    for (const row of stored) {
      const index = Number(String(row.vehicle_id).slice(1));
      expect({ type: row.vehicle_type, key: row.vehicle_type_key }).toEqual({
        type: AWKWARD_VEHICLE_TYPES[index],
        key: partitionKeyOf(AWKWARD_VEHICLE_TYPES[index] ?? ''),
      });
    }
    const readings = await query(
      lake.engine,
      'SELECT vehicle_type, vehicle_type_key, count(*) AS n FROM fleet.sensor_data GROUP BY vehicle_type, vehicle_type_key',
    );
    expect(readings.map((row) => [row.vehicle_type, row.vehicle_type_key, Number(row.n)])).toEqual(
      expect.arrayContaining(AWKWARD_VEHICLE_TYPES.map((type) => [type, partitionKeyOf(type), 3])),
    );
    expect(readings).toHaveLength(AWKWARD_VEHICLE_TYPES.length);
    // One vehicle per type, readings every (index + 1) minutes: each type's own average, none merged.
    expect(answer.rows.map((row) => [row.vehicle_type, row.avg_seconds_between_measurements])).toEqual(
      expect.arrayContaining(AWKWARD_VEHICLE_TYPES.map((type, index) => [type, 60 * (index + 1)])),
    );
    expect(answer.rows).toHaveLength(AWKWARD_VEHICLE_TYPES.length);

    // Every folder a partition of the warehouse is named after is a safe key, and no other folder is written: a
    // day, a type's key, or the run (run_sensor_readings; run ids are safe by their schema).
    const folders = new Set(
      (await filesUnder(lake.warehouseRoot)).flatMap((file) => file.split('/').slice(1, -1)),
    );
    for (const folder of folders) {
      expect(folder).toMatch(/^(?:days=\d{4}-\d{2}-\d{2}|vehicle_type_key=.*|run=\d{4}-\d{2}-\d{2})$/);
      if (folder.startsWith('vehicle_type_key=')) expect(folder.slice(17)).toMatch(SAFE_PARTITION_KEY);
    }
    expect([...folders].filter((folder) => folder.startsWith('vehicle_type_key=')).sort()).toEqual(
      AWKWARD_VEHICLE_TYPES.map((type) => `vehicle_type_key=${partitionKeyOf(type)}`).sort(),
    );
  }, 120_000);
});
