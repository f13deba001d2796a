import {
  GetQueryExecutionCommand,
  GetTableMetadataCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { DeleteObjectsCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { clientRequestToken } from '../../../../../../services/adapters/aws/athena/query-engine.js';
import type { StatementContext } from '../../../../../../services/ports/query-engine.js';
import { TerminalError } from '../../../../../../services/shared/errors.js';
import { type Behaviour, FakeAthena } from './athena-fake.js';

const INSERT =
  "INSERT INTO fleet.sensor_data\nSELECT vehicle_id, days, vehicle_type FROM fleet.raw WHERE run = '2026-11-24'";
const CTAS =
  "CREATE TABLE IF NOT EXISTS fleet.sensor_data WITH (format = 'PARQUET', partitioned_by = ARRAY['days', 'vehicle_type'], " +
  "external_location = 's3://fleet-warehouse/sensor_data/') AS SELECT CAST(NULL AS varchar) AS vehicle_id, " +
  'CAST(NULL AS date) AS days, CAST(NULL AS varchar) AS vehicle_type WITH NO DATA';

const HIVE_DDL =
  'CREATE EXTERNAL TABLE IF NOT EXISTS fleet.sensor_data (vehicle_id string) PARTITIONED BY (days date, ' +
  "vehicle_type string) STORED AS PARQUET LOCATION 's3://fleet-warehouse/sensor_data/' " +
  "TBLPROPERTIES ('parquet.compression' = 'SNAPPY')";

const statement = (attempt: string, statementIndex = 1): StatementContext => ({
  runId: '2026-11-24',
  file: '30_sensor_data.sql',
  statementIndex,
  attempt,
});

/** Every INSERT writes two files named after its execution, as Athena names files after its query id. */
const writingFiles = (sql: string, index: number): Behaviour =>
  /^INSERT/.test(sql)
    ? {
        writes: [
          `s3://fleet-warehouse/sensor_data/days=2026-11-24/vehicle_type=bus/${index + 1}_a`,
          `s3://fleet-warehouse/sensor_data/days=2026-11-24/vehicle_type=van/${index + 1}_b`,
        ],
      }
    : /^CREATE TABLE/.test(sql)
      ? { writes: [] }
      : {};

describe('Athena writes are replaced, never appended, when a run runs again', () => {
  it('records the first write of a run in the table log, with its data manifest, and deletes nothing', async () => {
    const fake = new FakeAthena(writingFiles);

    const result = await fake.engine().execute(INSERT, statement('event-1'));

    expect(result).toEqual({ queryExecutionId: 'q-1', dataScannedBytes: 1000, durationMs: 50 });
    expect(fake.deleted).toEqual([]);
    expect(JSON.parse(fake.statementLog.text('run=2026-11-24/fleet.sensor_data.json') ?? '')).toEqual({
      schemaVersion: 1,
      runId: '2026-11-24',
      table: 'fleet.sensor_data',
      writers: [
        {
          file: '30_sensor_data.sql',
          statementIndex: 1,
          attempt: 'event-1',
          sqlSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
          executions: [
            {
              step: 'statement',
              token: clientRequestToken(statement('event-1'), INSERT),
              queryExecutionId: 'q-1',
              manifest: 's3://fleet-athena-results/q-1-manifest.csv',
            },
          ],
        },
      ],
    });
  });

  it('a redelivery of the same event reuses the recorded execution: nothing starts, nothing is deleted', async () => {
    const fake = new FakeAthena(writingFiles);
    await fake.engine().execute(INSERT, statement('event-1'));

    const again = await fake.engine().execute(INSERT, statement('event-1'));

    expect(again.queryExecutionId).toBe('q-1');
    expect(fake.athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
    expect(fake.deleted).toEqual([]);
  });

  it('a new attempt deletes exactly the files the earlier execution wrote, then inserts again', async () => {
    const fake = new FakeAthena(writingFiles);
    await fake.engine().execute(INSERT, statement('event-1'));

    const rerun = await fake.engine().execute(INSERT, statement('event-2'));

    expect(rerun.queryExecutionId).toBe('q-2');
    expect(fake.s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'fleet-athena-results', Key: 'q-1-manifest.csv' },
    ]);
    expect(fake.s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input)).toEqual([
      {
        Bucket: 'fleet-warehouse',
        Delete: {
          Objects: [
            { Key: 'sensor_data/days=2026-11-24/vehicle_type=bus/1_a' },
            { Key: 'sensor_data/days=2026-11-24/vehicle_type=van/1_b' },
          ],
          Quiet: true,
        },
      },
    ]);
    const starts = fake.athena
      .commandCalls(StartQueryExecutionCommand)
      .map((c) => c.args[0].input.ClientRequestToken);
    expect(starts).toEqual([
      clientRequestToken(statement('event-1'), INSERT),
      clientRequestToken(statement('event-2'), INSERT),
    ]);
    expect(fake.timeline).toEqual([
      'start q-1',
      'delete sensor_data/days=2026-11-24/vehicle_type=bus/1_a',
      'delete sensor_data/days=2026-11-24/vehicle_type=van/1_b',
      'start q-2',
    ]);
    expect(JSON.parse(fake.statementLog.text('run=2026-11-24/fleet.sensor_data.json') ?? '').writers).toEqual(
      [
        expect.objectContaining({
          attempt: 'event-2',
          executions: [expect.objectContaining({ queryExecutionId: 'q-2' })],
        }),
      ],
    );
  });

  it('the CTAS and the INSERT of one attempt are siblings; a new attempt retires both', async () => {
    const fake = new FakeAthena(writingFiles);
    const engine = fake.engine();
    await engine.execute(CTAS, statement('event-1', 0));
    await engine.execute(INSERT, statement('event-1', 1));
    expect(fake.deleted).toEqual([]);

    // Redelivery: the same attempt finds both statements in the log.
    await engine.execute(CTAS, statement('event-1', 0));
    await engine.execute(INSERT, statement('event-1', 1));
    expect(fake.deleted).toEqual([]);
    expect(fake.executions).toHaveLength(2);

    // Re-run: the CTAS of the new attempt removes what the INSERT of the old one wrote.
    await engine.execute(CTAS, statement('event-2', 0));
    expect(fake.deleted).toEqual([
      's3://fleet-warehouse/sensor_data/days=2026-11-24/vehicle_type=bus/2_a',
      's3://fleet-warehouse/sensor_data/days=2026-11-24/vehicle_type=van/2_b',
    ]);
    await engine.execute(INSERT, statement('event-2', 1));
    expect(fake.deleted).toHaveLength(2);
    expect(fake.executions.map((e) => e.id)).toEqual(['q-1', 'q-2', 'q-3', 'q-4']);
  });

  it('a table declared by Hive DDL: the DDL is no writer, and the INSERT of a new attempt replaces the run’s files', async () => {
    const fake = new FakeAthena(writingFiles);
    const engine = fake.engine();
    await engine.execute(HIVE_DDL, statement('event-1', 0));
    await engine.execute(INSERT, statement('event-1', 1));
    // Only the INSERT writes files, so only the INSERT is in the table log.
    expect(
      JSON.parse(fake.statementLog.text('run=2026-11-24/fleet.sensor_data.json') ?? '').writers.map(
        (writer: { statementIndex: number }) => writer.statementIndex,
      ),
    ).toEqual([1]);

    // Re-run: the DDL runs again (IF NOT EXISTS, a new token) and deletes nothing; the INSERT replaces.
    await engine.execute(HIVE_DDL, statement('event-2', 0));
    expect(fake.deleted).toEqual([]);
    await engine.execute(INSERT, statement('event-2', 1));
    expect(fake.deleted).toEqual([
      's3://fleet-warehouse/sensor_data/days=2026-11-24/vehicle_type=bus/2_a',
      's3://fleet-warehouse/sensor_data/days=2026-11-24/vehicle_type=van/2_b',
    ]);
    expect(fake.started()).toEqual([HIVE_DDL, INSERT, HIVE_DDL, INSERT]);
  });

  it('the same attempt with an edited statement replaces the earlier text’s files', async () => {
    const fake = new FakeAthena(writingFiles);
    await fake.engine().execute(INSERT, statement('event-1'));

    await fake.engine().execute(`${INSERT} AND vehicle_id IS NOT NULL`, statement('event-1'));

    expect(fake.deleted).toHaveLength(2);
    expect(fake.executions).toHaveLength(2);
  });

  it('waits for an earlier execution that is still running before deleting what it wrote', async () => {
    const fake = new FakeAthena((sql, index) => ({
      ...writingFiles(sql, index),
      ...(index === 0 ? { states: ['SUCCEEDED', 'RUNNING', 'RUNNING', 'SUCCEEDED'] as const } : {}),
    }));
    await fake.engine().execute(INSERT, statement('event-1'));
    // The log has no manifest for the running one yet: a concurrent delivery recorded only the start.
    const log = JSON.parse(fake.statementLog.text('run=2026-11-24/fleet.sensor_data.json') ?? '');
    delete log.writers[0].executions[0].manifest;
    await fake.statementLog.put('run=2026-11-24/fleet.sensor_data.json', JSON.stringify(log));

    await fake.engine().execute(INSERT, statement('event-2'));

    const polls = fake.athena
      .commandCalls(GetQueryExecutionCommand)
      .filter((c) => c.args[0].input.QueryExecutionId === 'q-1');
    expect(polls).toHaveLength(4);
    expect(fake.deleted).toHaveLength(2);
  });

  it('refuses to delete anything a manifest lists outside the warehouse', async () => {
    const fake = new FakeAthena((sql) =>
      /^INSERT/.test(sql)
        ? { writes: ['s3://fleet-warehouse/sensor_data/a', 's3://fleet-raw/sensors/page-1'] }
        : {},
    );
    await fake.engine().execute(INSERT, statement('event-1'));

    const rerun = fake.engine().execute(INSERT, statement('event-2'));

    await expect(rerun).rejects.toThrow(TerminalError);
    await expect(rerun).rejects.toThrow(/refusing to delete s3:\/\/fleet-raw\/sensors\/page-1/);
    expect(fake.s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });

  it('deletes what a failed INSERT left behind and ends the statement with Athena’s reason', async () => {
    const fake = new FakeAthena(() => ({
      states: ['RUNNING', 'FAILED'],
      reason: 'HIVE_BAD_DATA: Error parsing field value',
      writes: ['s3://fleet-warehouse/sensor_data/days=2026-11-24/vehicle_type=bus/orphan'],
    }));

    const failing = fake.engine().execute(INSERT, statement('event-1'));

    await expect(failing).rejects.toThrow(
      'Athena query q-1 (run 2026-11-24, 30_sensor_data.sql, statement 1) FAILED: HIVE_BAD_DATA: Error parsing field value',
    );
    expect(fake.deleted).toEqual([
      's3://fleet-warehouse/sensor_data/days=2026-11-24/vehicle_type=bus/orphan',
    ]);
  });

  it('refuses to guess when the table log is unreadable', async () => {
    const fake = new FakeAthena(writingFiles);
    await fake.statementLog.put('run=2026-11-24/fleet.sensor_data.json', '{"schemaVersion": 2}');

    await expect(fake.engine().execute(INSERT, statement('event-1'))).rejects.toThrow(
      /statement log memory:\/\/store\/run=2026-11-24\/fleet.sensor_data.json is unreadable/,
    );
    expect(fake.executions).toHaveLength(0);
  });

  it('takes a missing data manifest as nothing written', async () => {
    const fake = new FakeAthena((sql) =>
      /^INSERT/.test(sql) ? { writes: ['s3://fleet-warehouse/x'], manifestStored: false } : {},
    );
    await fake.engine().execute(INSERT, statement('event-1'));

    await fake.engine().execute(INSERT, statement('event-2'));

    expect(fake.s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });
});

describe('an INSERT over more than 100 partitions', () => {
  const BACKFILL =
    'INSERT INTO fleet.sensor_data\nSELECT vehicle_id, "timestamp", days, vehicle_type FROM fleet.raw WHERE run = \'2026-10-01-2026-11-24\'';
  /** 150 partitions: 30 days of 5 vehicle types. */
  const partitions = Array.from({ length: 30 }, (_, day) =>
    ['bus', 'car', 'motorbike', 'truck', 'van'].map((type) => [
      `2026-10-${String(day + 1).padStart(2, '0')}`,
      type,
    ]),
  ).flat();

  function backfillFake(): FakeAthena {
    const fake = new FakeAthena((sql, index) => {
      if (index === 0) {
        return {
          states: ['RUNNING', 'FAILED'],
          reason: 'HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of 100 open writers for partitions/buckets',
          writes: ['s3://fleet-warehouse/sensor_data/days=2026-10-01/vehicle_type=bus/partial'],
        };
      }
      if (sql.startsWith('SELECT DISTINCT')) {
        return {
          results: {
            columns: [
              { Name: 'c2', Type: 'date' },
              { Name: 'c3', Type: 'varchar' },
            ],
            // Athena answers in no particular order; the engine sorts before batching.
            rows: [...partitions].reverse(),
          },
        };
      }
      return { writes: [`s3://fleet-warehouse/sensor_data/batch-${index}`] };
    });
    fake.tableMetadata = {
      Columns: [
        { Name: 'vehicle_id', Type: 'string' },
        { Name: 'timestamp', Type: 'bigint' },
      ],
      PartitionKeys: [
        { Name: 'days', Type: 'date' },
        { Name: 'vehicle_type', Type: 'string' },
      ],
    };
    return fake;
  }

  it('is split into INSERTs of at most 100 partitions each, after cleaning up the refused attempt', async () => {
    const fake = backfillFake();

    const result = await fake.engine().execute(BACKFILL, statement('event-1'));

    expect(fake.deleted).toEqual([
      's3://fleet-warehouse/sensor_data/days=2026-10-01/vehicle_type=bus/partial',
    ]);
    expect(fake.athena.commandCalls(GetTableMetadataCommand).map((c) => c.args[0].input)).toEqual([
      { CatalogName: 'AwsDataCatalog', DatabaseName: 'fleet', TableName: 'sensor_data' },
    ]);
    const [, planning, first, second, ...more] = fake.started();
    expect(more).toEqual([]);
    const source =
      'FROM (\nSELECT vehicle_id, "timestamp", days, vehicle_type FROM fleet.raw WHERE run = \'2026-10-01-2026-11-24\'\n) ' +
      'AS _fleet_source ("c0", "c1", "c2", "c3")';
    expect(planning).toBe(`SELECT DISTINCT "c2", "c3"\n${source}`);
    expect(first).toMatch(
      new RegExp(
        `^INSERT INTO fleet.sensor_data\\nSELECT _fleet_source.\\*\\n${source.replace(/[()."*\\]/g, '\\$&')}\\n` +
          'WHERE \\(_fleet_source."c2" = CAST\\(\'2026-10-01\' AS date\\) AND _fleet_source."c3" = CAST\\(\'bus\' AS varchar\\)\\)',
      ),
    );
    expect(first?.match(/ OR /g)).toHaveLength(99);
    expect(second?.match(/ OR /g)).toHaveLength(49);
    expect(second).toContain("CAST('2026-10-21' AS date)");
    expect(result.queryExecutionIds).toEqual(['q-1', 'q-2', 'q-3', 'q-4']);
    expect(result.queryExecutionId).toBe('q-4');
    expect(result.dataScannedBytes).toBe(4000);
  });

  it('a redelivery reuses every step: nothing starts again', async () => {
    const fake = backfillFake();
    await fake.engine().execute(BACKFILL, statement('event-1'));

    const again = await fake.engine().execute(BACKFILL, statement('event-1'));

    expect(again.queryExecutionIds).toEqual(['q-1', 'q-2', 'q-3', 'q-4']);
    expect(fake.athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(4);
  });

  it('a new attempt deletes what every batch wrote before starting again', async () => {
    const fake = backfillFake();
    await fake.engine().execute(BACKFILL, statement('event-1'));
    fake.deleted.length = 0;

    await fake.engine().execute(BACKFILL, statement('event-2'));

    expect(fake.deleted).toEqual(
      expect.arrayContaining([
        's3://fleet-warehouse/sensor_data/batch-2',
        's3://fleet-warehouse/sensor_data/batch-3',
      ]),
    );
  });
});
