import { rm } from 'node:fs/promises';
import { type RawRun, series, vehicle, writeRawRun } from './fleet-fixture.js';
import { type LocalLake, localLake, query, runQueryFiles } from './run-queries.js';

/**
 * A vehicle the API lists twice, created at the same instant with two types: the sensor join must pick one type
 * the same way whatever order the rows arrive in (the greatest), and count each reading once.
 */
const lakes: LocalLake[] = [];
afterAll(async () => {
  for (const lake of lakes) {
    await lake.engine.close();
    await rm(lake.root, { recursive: true, force: true });
  }
});

async function nightWith(types: readonly string[]): Promise<{ type: string; readings: number }[]> {
  const lake = await localLake();
  lakes.push(lake);
  const run: RawRun = {
    runId: '2024-03-10',
    vehicles: types.map((type) => vehicle('V1', type, '2024-03-10T01:00:00.000Z')),
    sensorPages: [
      series({ vehicleId: 'V1', from: '2024-03-10T02:00:00.000Z', count: 4, intervalMs: 60_000 }, () => 0.5),
    ],
  };
  await writeRawRun(lake.rawRoot, run);
  await runQueryFiles(lake, run.runId);
  const rows = await query(
    lake.engine,
    'SELECT vehicle_type, count(*) AS n FROM fleet.sensor_data GROUP BY vehicle_type ORDER BY vehicle_type',
  );
  return rows.map((row) => ({ type: String(row.vehicle_type), readings: Number(row.n) }));
}

describe('a vehicle listed twice at the same instant with two types', () => {
  it('takes the greatest type whatever the order of its rows, each reading once', async () => {
    expect(await nightWith(['bus', 'van'])).toEqual([{ type: 'van', readings: 4 }]);
    expect(await nightWith(['van', 'bus'])).toEqual([{ type: 'van', readings: 4 }]);
  }, 60_000);
});
