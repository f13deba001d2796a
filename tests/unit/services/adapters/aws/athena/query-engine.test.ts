import {
  AthenaClient,
  GetQueryExecutionCommand,
  type GetQueryExecutionCommandOutput,
  GetQueryResultsCommand,
  InvalidRequestException,
  type QueryExecutionState,
  StartQueryExecutionCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AthenaQueryEngine,
  type AthenaQueryEngineOptions,
  clientRequestToken,
} from '../../../../../../services/adapters/aws/athena/query-engine.js';
import { fromAthenaValue } from '../../../../../../services/adapters/aws/athena/results.js';
import type { StatementContext } from '../../../../../../services/ports/query-engine.js';
import { TerminalError, TransientError } from '../../../../../../services/shared/errors.js';
import { MemoryObjectStore } from '../../../../../helpers/fakes.js';
import { clientConfig, manualClock, noSleep, recordingSleep, serviceError } from '../factories.js';

const client = new AthenaClient(clientConfig);
const athena = mockClient(client);

const context: StatementContext = {
  runId: '2026-11-24',
  file: '30_sensor_data.sql',
  statementIndex: 1,
  attempt: 'event-1',
};

function engine(options: Partial<AthenaQueryEngineOptions> = {}) {
  return new AthenaQueryEngine(client, {
    workGroup: 'fleet-etl',
    database: 'fleet',
    statementLog: new MemoryObjectStore(),
    s3: new S3Client(clientConfig),
    writableLocations: ['s3://fleet-warehouse'],
    sleep: noSleep,
    poll: { initialDelayMs: 100, maxDelayMs: 400 },
    startRetry: { random: () => 0.5 },
    ...options,
  });
}

function execution(
  state: QueryExecutionState,
  extra: { StatementType?: 'DDL' | 'DML' | 'UTILITY'; reason?: string } = {},
): Partial<GetQueryExecutionCommandOutput> {
  return {
    QueryExecution: {
      QueryExecutionId: 'q-1',
      StatementType: extra.StatementType ?? 'DDL',
      Status: { State: state, ...(extra.reason ? { StateChangeReason: extra.reason } : {}) },
      ...(state === 'SUCCEEDED'
        ? {
            Statistics: {
              DataScannedInBytes: 12_345,
              TotalExecutionTimeInMillis: 2_100,
              EngineExecutionTimeInMillis: 1_900,
            },
          }
        : {}),
    },
  };
}

const column = (Name: string, Type: string) => ({ Name, Type, Label: Name });
const row = (...values: (string | undefined)[]) => ({
  Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })),
});

beforeEach(() => {
  athena.reset();
});

describe('clientRequestToken', () => {
  const sql = 'DROP TABLE IF EXISTS fleet.x';

  it('is stable for the same step of the same statement of the same attempt, and 32..128 characters long', () => {
    const token = clientRequestToken(context, sql);

    expect(clientRequestToken({ ...context }, sql, 'statement')).toBe(token);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs when the run, file, statement, attempt, SQL text or step differs', () => {
    const tokens = new Set([
      clientRequestToken(context, sql),
      clientRequestToken({ ...context, runId: '2026-11-25' }, sql),
      clientRequestToken({ ...context, file: '40_answer.sql' }, sql),
      clientRequestToken({ ...context, statementIndex: 2 }, sql),
      clientRequestToken({ ...context, attempt: 'event-2' }, sql),
      clientRequestToken(context, `${sql} `),
      clientRequestToken(context, sql, 'batch-0'),
      // Fields are hashed as a list, so moving characters between them changes the token too.
      clientRequestToken({ ...context, runId: '2026-11-24,', file: '"30_sensor_data.sql' }, sql),
    ]);

    expect(tokens.size).toBe(8);
  });
});

describe('AthenaQueryEngine', () => {
  it('starts the statement in the workgroup and database with the derived token, the same on redelivery', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    const sql = 'CREATE TABLE IF NOT EXISTS sensors (x int)';

    await engine({ catalog: 'AwsDataCatalog', outputLocation: 's3://fleet-athena/results/' }).execute(
      sql,
      context,
    );
    await engine({ catalog: 'AwsDataCatalog', outputLocation: 's3://fleet-athena/results/' }).execute(
      sql,
      context,
    );

    const starts = athena.commandCalls(StartQueryExecutionCommand).map((call) => call.args[0].input);
    expect(starts[0]).toEqual({
      QueryString: sql,
      ClientRequestToken: clientRequestToken(context, sql),
      WorkGroup: 'fleet-etl',
      QueryExecutionContext: { Database: 'fleet', Catalog: 'AwsDataCatalog' },
      ResultConfiguration: { OutputLocation: 's3://fleet-athena/results/' },
    });
    expect(starts[1]?.ClientRequestToken).toBe(starts[0]?.ClientRequestToken);
  });

  it('starts the statement again under a new token for a new attempt (a deliberate re-run)', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    const sql = 'CREATE DATABASE IF NOT EXISTS fleet';

    await engine().execute(sql, context);
    await engine().execute(sql, { ...context, attempt: 'event-2' });

    const tokens = athena
      .commandCalls(StartQueryExecutionCommand)
      .map((c) => c.args[0].input.ClientRequestToken);
    expect(tokens).toEqual([
      clientRequestToken(context, sql),
      clientRequestToken({ ...context, attempt: 'event-2' }, sql),
    ]);
  });

  it('refuses a statement context it cannot trust, before calling Athena', async () => {
    await expect(engine().execute('SELECT 1', { ...context, runId: '../x' })).rejects.toThrow(
      /invalid statement context/,
    );
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });

  it('polls with capped exponential backoff until SUCCEEDED and reports the statistics', async () => {
    const { waits, sleep } = recordingSleep();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena
      .on(GetQueryExecutionCommand, { QueryExecutionId: 'q-1' })
      .resolvesOnce(execution('QUEUED'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolves(execution('SUCCEEDED'));

    const result = await engine({ sleep }).execute('DROP TABLE IF EXISTS raw_sensors', context);

    expect(result).toEqual({ queryExecutionId: 'q-1', dataScannedBytes: 12_345, durationMs: 2_100 });
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(5);
    expect(waits).toEqual([100, 200, 400, 400, 400]);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  it('keeps polling through a throttled GetQueryExecution: the query runs on regardless', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena
      .on(GetQueryExecutionCommand)
      .rejectsOnce(serviceError('ThrottlingException', 400))
      .resolves(execution('SUCCEEDED'));

    const result = await engine().execute('DROP TABLE x', context);

    expect(result.queryExecutionId).toBe('q-1');
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(2);
  });

  it.each(['FAILED', 'CANCELLED'] as const)(
    'turns %s into a TerminalError with Athena’s reason',
    async (state) => {
      athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-9' });
      athena.on(GetQueryExecutionCommand).resolves(
        execution(state, {
          reason: "TABLE_NOT_FOUND: line 1:15: Table 'fleet.raw_sensors' does not exist",
        }),
      );

      const running = engine().execute('SELECT * FROM raw_sensors', context);

      await expect(running).rejects.toThrow(TerminalError);
      await expect(running).rejects.toThrow(
        `Athena query q-9 (run 2026-11-24, 30_sensor_data.sql, statement 1) ${state}: ` +
          "TABLE_NOT_FOUND: line 1:15: Table 'fleet.raw_sensors' does not exist",
      );
    },
  );

  it('gives up waiting with a TransientError once maxWaitMs has passed', async () => {
    const clock = manualClock();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));

    const running = engine({
      clock,
      poll: { initialDelayMs: 1_000, maxDelayMs: 1_000, maxWaitMs: 5_000 },
      sleep: async (ms) => clock.advance(ms),
    }).execute('DROP TABLE x', context);

    await expect(running).rejects.toThrow(TransientError);
    await expect(running).rejects.toThrow(/still RUNNING after 5000 ms/);
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(5);
  });

  it('retries a start refused with TooManyRequestsException, with jitter', async () => {
    const { waits, sleep } = recordingSleep();
    const tooMany = new TooManyRequestsException({ message: 'Too many queries', $metadata: {} });
    athena
      .on(StartQueryExecutionCommand)
      .rejectsOnce(tooMany)
      .rejectsOnce(tooMany)
      .resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));

    await engine({ sleep, poll: { initialDelayMs: 1 } }).execute('DROP TABLE x', context);

    const starts = athena.commandCalls(StartQueryExecutionCommand).map((call) => call.args[0].input);
    expect(starts).toHaveLength(3);
    expect(new Set(starts.map((s) => s.ClientRequestToken)).size).toBe(1);
    // Full jitter with random() = 0.5 over 1 s, then 2 s; then the first poll's wait.
    expect(waits).toEqual([500, 1_000, 1]);
  });

  it('gives up starting with a TransientError when Athena stays too busy', async () => {
    athena
      .on(StartQueryExecutionCommand)
      .rejects(new TooManyRequestsException({ message: 'busy', $metadata: {} }));

    await expect(engine({ startRetry: { maxAttempts: 3 } }).execute('DROP TABLE x', context)).rejects.toThrow(
      TransientError,
    );
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(3);
  });

  it('does not retry a start Athena refuses as invalid', async () => {
    athena.on(StartQueryExecutionCommand).rejects(
      new InvalidRequestException({
        message: 'line 1:1: mismatched input',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    await expect(engine().execute('SELEKT 1', context)).rejects.toThrow(TerminalError);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
  });

  it('reads every page of a query’s results, skipping the header row and converting by column type', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED', { StatementType: 'DML' }));
    const columns = [
      column('vehicle_type', 'varchar'),
      column('readings', 'bigint'),
      column('avg_seconds', 'double'),
      column('share', 'decimal'),
      column('active', 'boolean'),
      column('day', 'date'),
    ];
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: columns },
          Rows: [
            row('vehicle_type', 'readings', 'avg_seconds', 'share', 'active', 'day'),
            row('truck', '1200', '61.5', '0.25', 'true', '2026-11-24'),
            row('van', '9007199254740993', undefined, undefined, 'false', '2026-11-24'),
          ],
        },
        NextToken: 'page-2',
      })
      .resolvesOnce({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: columns },
          Rows: [row('', '0', 'NaN', '1', undefined, undefined)],
        },
      });

    const result = await engine().execute(
      '-- the answer\nWITH t AS (SELECT 1) SELECT * FROM answer',
      context,
    );

    expect(result.result).toEqual({
      columns: ['vehicle_type', 'readings', 'avg_seconds', 'share', 'active', 'day'],
      rows: [
        {
          vehicle_type: 'truck',
          readings: 1200,
          avg_seconds: 61.5,
          share: 0.25,
          active: true,
          day: '2026-11-24',
        },
        // Beyond 2^53 a bigint has no exact JSON number, so it stays text; nulls stay null.
        {
          vehicle_type: 'van',
          readings: '9007199254740993',
          avg_seconds: null,
          share: null,
          active: false,
          day: '2026-11-24',
        },
        { vehicle_type: '', readings: 0, avg_seconds: 'NaN', share: 1, active: null, day: null },
      ],
    });
    expect(athena.commandCalls(GetQueryResultsCommand).map((call) => call.args[0].input)).toEqual([
      { QueryExecutionId: 'q-1', MaxResults: 1000 },
      { QueryExecutionId: 'q-1', MaxResults: 1000, NextToken: 'page-2' },
    ]);
  });

  it.each(['(SELECT 1)', 'VALUES (1), (2)', 'TABLE answer', '/* note */ select 1'])(
    'reads the rows of the query %p',
    async (sql) => {
      athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
      athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED', { StatementType: 'DML' }));
      athena.on(GetQueryResultsCommand).resolves({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: [column('x', 'integer')] },
          Rows: [row('x'), row('1')],
        },
      });

      const result = await engine().execute(sql, context);

      expect(result.result).toEqual({ columns: ['x'], rows: [{ x: 1 }] });
    },
  );

  it('does not read results of a DML statement that is not a query', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED', { StatementType: 'DML' }));

    const result = await engine().execute(
      "UNLOAD (SELECT 1) TO 's3://fleet-exports/x/' WITH (format = 'PARQUET')",
      context,
    );

    expect(result.result).toBeUndefined();
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  it('refuses a GetQueryExecution answer it cannot read', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { QueryExecutionId: 'q-1' } });

    await expect(engine().execute('DROP TABLE x', context)).rejects.toThrow(/unexpected response/);
  });
});

describe('fromAthenaValue', () => {
  it.each([
    ['42', 'integer', 42],
    ['-7', 'tinyint', -7],
    ['3', 'smallint', 3],
    ['12345678901', 'bigint', 12345678901],
    ['1.5', 'double', 1.5],
    ['2.5', 'float', 2.5],
    ['10.25', 'decimal(10,2)', 10.25],
    ['true', 'boolean', true],
    ['false', 'boolean', false],
    ['Infinity', 'double', 'Infinity'],
    ['10.25', 'decimal', 10.25],
    ['12345678901234567.25', 'decimal(20,2)', '12345678901234567.25'],
    ['-0.000000000000001', 'decimal(16,15)', -0.000000000000001],
    ['2026-11-24 01:00:00.000', 'timestamp', '2026-11-24T01:00:00.000Z'],
    ['2026-11-24 01:00:00', 'timestamp(3)', '2026-11-24T01:00:00.000Z'],
    ['2026-11-24 01:00:00.123456 UTC', 'timestamp(6) with time zone', '2026-11-24T01:00:00.123Z'],
    [
      '2026-11-24 01:00:00.000 Europe/Paris',
      'timestamp with time zone',
      '2026-11-24 01:00:00.000 Europe/Paris',
    ],
    ['', 'varchar', ''],
    [undefined, 'integer', null],
  ])('converts %p of type %s', (raw, type, expected) => {
    expect(fromAthenaValue(raw, type)).toEqual(expected);
  });
});
