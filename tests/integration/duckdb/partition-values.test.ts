import { rm } from 'node:fs/promises';
import { rowReader } from '../../../services/adapters/http/row-reader.js';
import { DEFAULT_ROWS } from '../../../services/source-config/index.js';
import { type RawRun, series, vehicle, writeRawRun } from './fleet-fixture.js';
import { type LocalLake, localLake, query, runQueryFiles } from './run-queries.js';

/**
 * Every vehicle type the row schema accepts must come back from its partition folder as itself: the folder name is
 * the only place the type is stored. These are the awkward ones an API may send (separators, the characters a
 * partition path or URL gives meaning to, non-Latin text up to the longest the schema lets through).
 */
const AWKWARD_TYPES = [
  'Kühlwagen',
  'bus/../../etc',
  'a=b',
  '50% off',
  'two  spaces ',
  "it's",
  'tab\there',
  '#hash?query&and',
  'emoji 🚚',
  '中'.repeat(26),
  'NULLABLE',
  'nil',
];

let lake: LocalLake;

beforeAll(async () => {
  lake = await localLake();
});

afterAll(async () => {
  await lake.engine.close();
  await rm(lake.root, { recursive: true, force: true });
});

describe('vehicle types as partition values', () => {
  it('the row schema accepts every one of these types', () => {
    const read = rowReader('vehicles', DEFAULT_ROWS);
    for (const type of AWKWARD_TYPES) {
      expect({ type, verdict: read(vehicle('V', type, '2024-03-10T00:00:00.000Z')) }).toMatchObject({
        type,
        verdict: { ok: true },
      });
    }
  });

  it('round-trip through vehicles_data and sensor_data, each its own group of the answer', async () => {
    const random = () => 0.5;
    const run: RawRun = {
      runId: '2024-03-10',
      vehicles: AWKWARD_TYPES.map((type, index) => vehicle(`V${index}`, type, '2024-03-10T01:00:00.000Z')),
      sensorPages: [
        AWKWARD_TYPES.flatMap((_, index) =>
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

    const sorted = [...AWKWARD_TYPES].sort();
    const stored = await query(lake.engine, 'SELECT DISTINCT vehicle_type FROM fleet.vehicles_data');
    expect(stored.map((row) => row.vehicle_type).sort()).toEqual(sorted);
    const readings = await query(
      lake.engine,
      'SELECT vehicle_type, count(*) AS n FROM fleet.sensor_data GROUP BY vehicle_type',
    );
    expect(Object.fromEntries(readings.map((row) => [row.vehicle_type, Number(row.n)]))).toEqual(
      Object.fromEntries(AWKWARD_TYPES.map((type) => [type, 3])),
    );
    // One vehicle per type, readings every (index + 1) minutes: each type's own average, none merged.
    expect(
      Object.fromEntries(answer.rows.map((row) => [row.vehicle_type, row.avg_seconds_between_measurements])),
    ).toEqual(Object.fromEntries(AWKWARD_TYPES.map((type, index) => [type, 60 * (index + 1)])));
  }, 60_000);
});
