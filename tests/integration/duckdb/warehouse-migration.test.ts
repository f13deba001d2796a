import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { translateStatement } from '../../../services/adapters/local/duckdb/athena-bridge.js';
import { WarehouseMigrationError } from '../../../services/adapters/local/duckdb/bridge-errors.js';
import {
  layoutBeforeTypeKeys,
  typeKeyLayoutOf,
} from '../../../services/adapters/local/duckdb/warehouse-migration.js';
import { partitionKeyOf } from '../../../services/shared/lake-keys.js';
import { renderPlaceholders, splitStatements } from '../../../services/shared/sql-text.js';
import {
  firstRun,
  type RawRun,
  secondRun,
  seededRandom,
  series,
  vehicle,
  writeRawRun,
} from './fleet-fixture.js';
import { filesUnder, type LocalLake, localLake, query, reopened, runQueryFiles } from './run-queries.js';

/**
 * A state folder built before docs/decisions/0089 (vehicles_data and sensor_data partitioned by vehicle_type) is
 * moved to the new layout when the engine opens it, and from then on is the warehouse a new state folder would be
 * after the same nights: the same rows, the same files under the same names, the same answer. Also when the move
 * was killed half-way.
 */
const BEFORE_0089 = join(process.cwd(), 'tests', 'helpers', 'queries-before-0089');

/** Types the old layout stored and read back as themselves: awkward folder names, two differing by case. */
const OLD_TYPES = ['Kühlwagen', 'bus/../../etc', 'a=b', '50% off', '中'.repeat(26), 'Bus', 'bus'];

/** Night one with more vehicles, one of each old awkward type. */
function firstNight(): RawRun {
  const run = firstRun();
  const random = seededRandom(901);
  return {
    ...run,
    vehicles: [
      ...run.vehicles,
      ...OLD_TYPES.map((type, index) => vehicle(`odd-${index}`, type, '2024-03-10T00:30:00.000Z')),
    ],
    sensorPages: [
      ...run.sensorPages,
      OLD_TYPES.flatMap((_, index) =>
        series(
          {
            vehicleId: `odd-${index}`,
            from: '2024-03-10T05:00:00.000Z',
            count: 4,
            intervalMs: 30_000 * (index + 1),
          },
          random,
        ),
      ),
    ],
  };
}

/** The SQL files of before the change: today's, with 20 and 30 as they were. */
async function queriesBefore0089(root: string): Promise<string> {
  const folder = join(root, 'queries-before-0089');
  await cp(join(process.cwd(), 'queries'), folder, { recursive: true });
  await cp(BEFORE_0089, folder, { recursive: true });
  return folder;
}

interface Warehouse {
  vehicles: unknown[];
  sensors: unknown[];
  summary: unknown[];
  files: string[];
}

async function warehouse(lake: LocalLake): Promise<Warehouse> {
  return {
    vehicles: await query(
      lake.engine,
      'SELECT vehicle_id, created_at, vehicle_type, vehicle_type_key FROM fleet.vehicles_data ORDER BY 1, 2, 3, 4',
    ),
    sensors: await query(
      lake.engine,
      'SELECT vehicle_id, "timestamp", sensor_value, vehicle_type, days, vehicle_type_key FROM fleet.sensor_data ' +
        'ORDER BY 1, 2, 3, 4, 5, 6',
    ),
    summary: await query(
      lake.engine,
      'SELECT * FROM fleet.vehicle_day_intervals ORDER BY 1, 2, 3, 4, 5, 6, 7',
    ),
    files: (await filesUnder(lake.warehouseRoot)).filter((file) => !file.startsWith('.')),
  };
}

let reference: Warehouse;
let referenceAnswer: unknown[];
const lakes: LocalLake[] = [];

/** A state folder whose first night ran on the SQL of before the change. */
async function oldStateFolder(): Promise<LocalLake> {
  const lake = await localLake();
  lakes.push(lake);
  await writeRawRun(lake.rawRoot, firstNight());
  await writeRawRun(lake.rawRoot, secondRun());
  await runQueryFiles(lake, '2024-03-10', await queriesBefore0089(lake.root));
  return lake;
}

beforeAll(async () => {
  // Both nights on today's SQL, in a new state folder.
  const lake = await localLake();
  lakes.push(lake);
  await writeRawRun(lake.rawRoot, firstNight());
  await writeRawRun(lake.rawRoot, secondRun());
  await runQueryFiles(lake, '2024-03-10');
  referenceAnswer = (await runQueryFiles(lake, '2024-03-11')).rows;
  reference = await warehouse(lake);
}, 120_000);

afterAll(async () => {
  for (const lake of lakes) {
    await lake.engine.close();
    await rm(lake.root, { recursive: true, force: true });
  }
});

describe('a state folder from before vehicle types were kept as data', () => {
  it('knows the old tables by their definitions, and moves them to what queries/20 and 30 declare now', async () => {
    const values = {
      database: 'fleet',
      raw_location: 'file:///lake/raw',
      warehouse_location: 'file:///lake/warehouse',
      run_id: '2024-03-10',
      run_date: '2024-03-10',
    };
    const declared = async (folder: string, file: string) => {
      const [ddl] = splitStatements(renderPlaceholders(await readFile(join(folder, file), 'utf8'), values));
      const plan = translateStatement(ddl ?? '');
      if (plan.kind !== 'createExternalTable') throw new Error(`${file}: no CREATE EXTERNAL TABLE first`);
      return plan.definition;
    };
    for (const file of ['20_vehicles_data.sql', '30_sensor_data.sql']) {
      const before = await declared(BEFORE_0089, file);
      const now = await declared(join(process.cwd(), 'queries'), file);
      expect(typeKeyLayoutOf(before)).toEqual(now);
      expect(typeKeyLayoutOf(now)).toBeUndefined();
      expect(layoutBeforeTypeKeys(now)).toEqual(before);
      expect(layoutBeforeTypeKeys(before)).toBeUndefined();
    }
  });

  it('is moved when the engine opens it, and then holds what a new state folder holds after the same nights', async () => {
    const lake = await oldStateFolder();
    expect((await filesUnder(lake.warehouseRoot)).some((file) => file.includes('/vehicle_type=Bus/'))).toBe(
      true,
    );

    const notices: string[] = [];
    const moved = await reopened(lake, { notice: (line) => notices.push(line) });
    lakes.push(moved);
    expect(notices).toEqual([
      expect.stringMatching(
        /^moved fleet\.sensor_data to its partitions by vehicle_type_key, .* \d+ Parquet file/,
      ),
      expect.stringMatching(
        /^moved fleet\.vehicles_data to its partitions by vehicle_type_key, .* 10 Parquet file/,
      ),
    ]);
    // Night one's rows are all there, each type as it was written.
    const types = await query(
      moved.engine,
      'SELECT DISTINCT vehicle_type, vehicle_type_key FROM fleet.vehicles_data',
    );
    expect(types.map((row) => [row.vehicle_type, row.vehicle_type_key]).sort()).toEqual(
      ['bike', 'truck', 'van', ...OLD_TYPES].map((type) => [type, partitionKeyOf(type)]).sort(),
    );

    const answer = await runQueryFiles(moved, '2024-03-11');
    expect(answer.rows).toEqual(referenceAnswer);
    expect(await warehouse(moved)).toEqual(reference);

    // Opened again, there is nothing left to move.
    const again: string[] = [];
    const once = await reopened(moved, { notice: (line) => again.push(line) });
    lakes.push(once);
    expect(again).toEqual([]);
  }, 120_000);

  it('goes on where a killed move stopped, and loses nothing', async () => {
    const lake = await oldStateFolder();
    await lake.engine.close();
    const stopped = reopened(
      { ...lake, engine: { close: async () => undefined } as LocalLake['engine'] },
      {
        migration: {
          afterFile: (files) => {
            if (files === 3) throw new Error('killed');
          },
        },
      },
    );
    await expect(stopped).rejects.toThrow(WarehouseMigrationError);
    await expect(stopped).rejects.toThrow(/No row is lost/);
    // Half moved: old and new partition folders side by side.
    const files = await filesUnder(lake.warehouseRoot);
    expect(files.some((file) => /\/vehicle_type=/.test(file))).toBe(true);
    expect(files.some((file) => /\/vehicle_type_key=/.test(file))).toBe(true);

    const resumed = await reopened({
      ...lake,
      engine: { close: async () => undefined } as LocalLake['engine'],
    });
    lakes.push(resumed);
    expect((await filesUnder(lake.warehouseRoot)).filter((file) => /\/vehicle_type=/.test(file))).toEqual([]);
    const answer = await runQueryFiles(resumed, '2024-03-11');
    expect(answer.rows).toEqual(referenceAnswer);
    expect(await warehouse(resumed)).toEqual(reference);
  }, 120_000);

  it('is moved when its catalog was lost and the SQL files declare the tables again over its folders', async () => {
    const lake = await oldStateFolder();
    await lake.engine.close();
    // What openWarehouse does with a warehouse file it cannot read: a new, empty catalog over the same lake.
    await rm(lake.databasePath);
    const notices: string[] = [];
    const fresh = await reopened(
      { ...lake, engine: { close: async () => undefined } as LocalLake['engine'] },
      { notice: (line) => notices.push(line) },
    );
    lakes.push(fresh);
    expect(notices).toEqual([]);

    const answer = await runQueryFiles(fresh, '2024-03-11');
    expect(notices).toEqual([
      expect.stringMatching(/^moved fleet\.vehicles_data to its partitions by vehicle_type_key/),
      expect.stringMatching(/^moved fleet\.sensor_data to its partitions by vehicle_type_key/),
    ]);
    expect(answer.rows).toEqual(referenceAnswer);
    expect(await warehouse(fresh)).toEqual(reference);
  }, 120_000);
});
