import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createDuckDbQueryEngine } from '../../../services/adapters/local/duckdb/duckdb-query-engine.js';
import type { JsonValue, ResultSet } from '../../../services/ports/query-engine.js';
import {
  expectedAverages,
  expectedSensorRows,
  firstRun,
  type RawRun,
  secondRun,
  type TypeAverage,
  writeRawRun,
} from './fleet-fixture.js';
import { filesUnder, type LocalLake, localLake, query, runQueryFiles } from './run-queries.js';

/** The answer's rows, averages compared to 9 decimals: the order of summation differs in the last bits. */
function expectAnswer(answer: ResultSet, expected: readonly TypeAverage[]): void {
  expect(answer.columns).toEqual(['vehicle_type', 'avg_seconds_between_measurements', 'vehicles']);
  expect(answer.rows.map((row) => [row.vehicle_type, row.vehicles])).toEqual(
    expected.map((row) => [row.vehicle_type, row.vehicles]),
  );
  answer.rows.forEach((row, index) => {
    expect(row.avg_seconds_between_measurements).toBeCloseTo(
      expected[index]?.avg_seconds_between_measurements ?? Number.NaN,
      9,
    );
  });
}

const SENSOR_SNAPSHOT =
  'SELECT vehicle_id, "timestamp", sensor_value, days, vehicle_type FROM fleet.sensor_data ' +
  'ORDER BY vehicle_id, "timestamp"';
const VEHICLE_SNAPSHOT =
  'SELECT vehicle_id, created_at, vehicle_type FROM fleet.vehicles_data ORDER BY vehicle_id';

interface Snapshot {
  sensors: Record<string, JsonValue>[];
  vehicles: Record<string, JsonValue>[];
  files: string[];
}

async function snapshot(lake: LocalLake): Promise<Snapshot> {
  return {
    sensors: await query(lake.engine, SENSOR_SNAPSHOT),
    vehicles: await query(lake.engine, VEHICLE_SNAPSHOT),
    files: await filesUnder(lake.warehouseRoot),
  };
}

function sortedExpectedSensors(runs: readonly RawRun[]) {
  return expectedSensorRows(runs)
    .map(({ vehicle_id, timestamp, sensor_value, days, vehicle_type }) => ({
      vehicle_id,
      timestamp,
      sensor_value,
      days,
      vehicle_type,
    }))
    .sort((a, b) =>
      a.vehicle_id === b.vehicle_id ? a.timestamp - b.timestamp : a.vehicle_id < b.vehicle_id ? -1 : 1,
    );
}

describe('queries/ on the local DuckDB engine', () => {
  const run1 = firstRun();
  const run2 = secondRun();
  let lake: LocalLake;
  let firstAnswer: ResultSet;
  let afterFirstRun: Snapshot;

  beforeAll(async () => {
    lake = await localLake();
    await writeRawRun(lake.rawRoot, run1);
    firstAnswer = await runQueryFiles(lake, run1.runId);
    afterFirstRun = await snapshot(lake);
    // Six SQL files on DuckDB: a second or two on a quiet machine, many more on a loaded CI machine.
  }, 60_000);

  afterAll(async () => {
    await lake.engine.close();
    await rm(lake.root, { recursive: true, force: true });
  });

  describe('first run', () => {
    it('writes Parquet under Hive-style days=/vehicle_type_key= folders, every file named after the run', () => {
      const sensorFiles = afterFirstRun.files.filter((file) => file.startsWith('sensor_data/'));
      expect(sensorFiles.length).toBeGreaterThan(0);
      for (const file of sensorFiles) {
        expect(file).toMatch(
          /^sensor_data\/days=\d{4}-\d{2}-\d{2}\/vehicle_type_key=[a-z]+\/run-2024-03-10_\d+\.parquet$/,
        );
      }
      expect(afterFirstRun.files.filter((file) => file.startsWith('vehicles_data/')).sort()).toEqual([
        'vehicles_data/vehicle_type_key=bike/run-2024-03-10_0.parquet',
        'vehicles_data/vehicle_type_key=truck/run-2024-03-10_0.parquet',
        'vehicles_data/vehicle_type_key=van/run-2024-03-10_0.parquet',
      ]);
    });

    it('compresses every column chunk with Snappy', async () => {
      const glob = join(lake.warehouseRoot, '**', '*.parquet');
      const codecs = await query(lake.engine, `SELECT DISTINCT compression FROM parquet_metadata('${glob}')`);
      expect(codecs).toEqual([{ compression: 'SNAPPY' }]);
    });

    it('keeps every reading of a known vehicle, typed and partitioned, and drops the unknown vehicle', () => {
      const expected = sortedExpectedSensors([run1]);
      const rawReadings = run1.sensorPages.flat();
      expect(expected.length).toBe(rawReadings.filter((row) => row.vehicle_id !== 'ghost-1').length);
      expect(afterFirstRun.sensors).toEqual(expected);
    });

    it('files a reading recorded a day late under the day it was measured', () => {
      const lateVan = afterFirstRun.sensors.filter(
        (row) => row.vehicle_id === 'van-1' && row.days === '2024-03-09',
      );
      expect(lateVan).toHaveLength(3);
      expect(
        afterFirstRun.files.some((file) =>
          file.startsWith('sensor_data/days=2024-03-09/vehicle_type_key=van/'),
        ),
      ).toBe(true);
    });

    it('stores vehicles with their creation time as a UTC timestamp', () => {
      expect(afterFirstRun.vehicles).toContainEqual({
        vehicle_id: 'truck-1',
        created_at: '2024-03-10T00:30:00.000Z',
        vehicle_type: 'truck',
      });
    });

    it('answers like an independent computation over the same generated rows', () => {
      expectAnswer(firstAnswer, expectedAverages([run1]));
    });
  });

  describe('the same run again', () => {
    it('leaves identical tables, files and answer: no duplicated rows', async () => {
      const answer = await runQueryFiles(lake, run1.runId);
      expect(await snapshot(lake)).toEqual(afterFirstRun);
      // Not toEqual: DuckDB, like Athena, sums in parallel, so the last bit of an average may differ.
      expectAnswer(answer, expectedAverages([run1]));
    });
  });

  describe('a second run', () => {
    let secondAnswer: ResultSet;
    let afterSecondRun: Snapshot;

    beforeAll(async () => {
      await writeRawRun(lake.rawRoot, run2);
      secondAnswer = await runQueryFiles(lake, run2.runId);
      afterSecondRun = await snapshot(lake);
    }, 60_000);

    it("appends its own files and leaves the first run's in place", () => {
      expect(afterSecondRun.files).toEqual(expect.arrayContaining(afterFirstRun.files));
      const added = afterSecondRun.files.filter((file) => !afterFirstRun.files.includes(file));
      expect(added.length).toBeGreaterThan(0);
      for (const file of added) {
        expect(file).toMatch(/\/run-2024-03-11_\d+\.parquet$/);
      }
    });

    it("joins readings of the first night's vehicles, including the series across midnight", () => {
      expect(afterSecondRun.sensors).toEqual(sortedExpectedSensors([run1, run2]));
      const bikeDays = afterSecondRun.sensors
        .filter((row) => row.vehicle_id === 'bike-1')
        .map((row) => `${String(row.days)}/${String(row.vehicle_type)}`);
      expect(new Set(bikeDays)).toEqual(new Set(['2024-03-10/bike', '2024-03-11/bike']));
    });

    it('files the late truck-2 reading of the 10th under the 10th, written by the second run', () => {
      expect(
        afterSecondRun.files.some((file) =>
          /^sensor_data\/days=2024-03-10\/vehicle_type_key=truck\/run-2024-03-11_\d+\.parquet$/.test(file),
        ),
      ).toBe(true);
    });

    it('answers like an independent computation over both nights', () => {
      expectAnswer(secondAnswer, expectedAverages([run1, run2]));
    });

    it('running the first night again afterwards changes nothing', async () => {
      await runQueryFiles(lake, run1.runId);
      expect(await snapshot(lake)).toEqual(afterSecondRun);
    });

    it('keeps the tables when the DuckDB file is closed and opened again', async () => {
      await lake.engine.close();
      lake.engine = await createDuckDbQueryEngine({ databasePath: lake.databasePath });
      expect(await snapshot(lake)).toEqual(afterSecondRun);
    });
  });
});
