import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { GetPartitionsCommand, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { partitionKeyOf, partitionKeySql } from '../../../services/shared/lake-keys.js';
import {
  renderPlaceholders,
  SqlPlaceholderValuesSchema,
  splitStatements,
} from '../../../services/shared/sql-text.js';
import { CloudTwin } from '../../../twin/cloud-twin.js';
import { functionOfConstruct } from '../../../twin/template/stack-model.js';
import { TWIN_REGION } from '../../../twin/twin-account.js';
import { AWKWARD_VEHICLE_TYPES, SAFE_PARTITION_KEY } from '../../helpers/awkward-vehicle-types.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';

/**
 * The SQL files of queries/, as the query runner sends them, on the cloud twin's Athena (Hive's grammar for the DDL,
 * Trino's for the rest, Glue for the catalog) over raw pages whose vehicle types no folder name could hold: each type
 * comes back in the answer as written, its own group, and the partitions Glue registers are the types' safe keys
 * (docs/decisions/0089, the Hive DDL of decision 76).
 */
const RUN = '2026-11-24';
const DAY_START = Date.parse(`${RUN}T00:00:00.000Z`);

let stack: TwinStack;
let twin: CloudTwin;
let athena: AthenaClient;
let glue: GlueClient;
let env: Readonly<Record<string, string>>;

beforeAll(async () => {
  stack = synthesizeTwinStack({ bundle: false });
  twin = await CloudTwin.start({ assemblyDir: stack.assemblyDir });
  const runner = functionOfConstruct(twin.model, 'Services/QueryRunner');
  env = runner.environment;
  const config = {
    region: TWIN_REGION,
    endpoint: twin.endpoint,
    credentials: twin.credentialsOf(runner),
    maxAttempts: 1,
  };
  athena = new AthenaClient(config);
  glue = new GlueClient(config);
  // The night's raw pages as the downloader lands them, with its own role.
  const downloader = functionOfConstruct(twin.model, 'Services/Downloader');
  const s3 = new S3Client({ ...config, forcePathStyle: true, credentials: twin.credentialsOf(downloader) });
  const vehicles = AWKWARD_VEHICLE_TYPES.map((vehicle_type, i) => ({
    vehicle_id: `v${i}`,
    vehicle_type,
    created_at: new Date(DAY_START + 1_000 + i).toISOString(),
  }));
  // Three readings a vehicle, (index + 1) minutes apart: each type's average is (index + 1) × 60 seconds.
  const readings = vehicles.flatMap(({ vehicle_id }, i) =>
    [0, 1, 2].map((k) => {
      const timestamp = DAY_START + 3_600_000 + k * 60_000 * (i + 1);
      return { vehicle_id, timestamp, sensor_value: k, created_at: new Date(timestamp).toISOString() };
    }),
  );
  for (const [dataset, rows] of [
    ['vehicles', vehicles],
    ['sensors', readings],
  ] as const) {
    await s3.send(
      new PutObjectCommand({
        Bucket: env.RAW_BUCKET,
        Key: `${dataset}/run=${RUN}/page-00001.ndjson`,
        Body: rows.map((row) => `${JSON.stringify(row)}\n`).join(''),
      }),
    );
  }
  s3.destroy();
}, 120_000);

afterAll(async () => {
  athena?.destroy();
  glue?.destroy();
  await twin?.stop();
  discardTwinStack(stack);
});

async function run(query: string): Promise<QueryExecution> {
  const started = await athena.send(
    new StartQueryExecutionCommand({
      QueryString: query,
      WorkGroup: env.ATHENA_WORKGROUP,
      QueryExecutionContext: { Database: env.GLUE_DATABASE },
    }),
  );
  for (;;) {
    const { QueryExecution: execution } = await athena.send(
      new GetQueryExecutionCommand({ QueryExecutionId: started.QueryExecutionId }),
    );
    const state = execution?.Status?.State;
    if (execution !== undefined && state !== 'QUEUED' && state !== 'RUNNING') return execution;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A finished query's rows, header row left out, each value as Athena's text (undefined for NULL). */
async function rows(execution: QueryExecution): Promise<(string | undefined)[][]> {
  const all: (string | undefined)[][] = [];
  let token: string | undefined;
  do {
    const page = await athena.send(
      new GetQueryResultsCommand({ QueryExecutionId: execution.QueryExecutionId, NextToken: token }),
    );
    all.push(
      ...(page.ResultSet?.Rows ?? []).map((row) => (row.Data ?? []).map((datum) => datum.VarCharValue)),
    );
    token = page.NextToken;
  } while (token !== undefined);
  return all.slice(1);
}

/** A Trino string literal of any text: NUL cannot be written inside quotes, so it is spliced in with chr(0). */
function sqlString(value: string): string {
  return value
    .split('\u0000')
    .map((part) => `'${part.replaceAll("'", "''")}'`)
    .join(' || chr(0) || ');
}

describe("vehicle types no folder name could hold, through queries/ on the twin's Athena", () => {
  let answer: (string | undefined)[][];
  let repeated: (string | undefined)[][];

  beforeAll(async () => {
    const values = SqlPlaceholderValuesSchema.parse({
      database: env.GLUE_DATABASE,
      raw_location: `s3://${env.RAW_BUCKET}`,
      warehouse_location: `s3://${env.WAREHOUSE_BUCKET}`,
      run_id: RUN,
      run_date: RUN,
    });
    const folder = join(process.cwd(), 'queries');
    for (const file of readdirSync(folder)
      .filter((name) => name.endsWith('.sql'))
      .sort()) {
      for (const statement of splitStatements(
        renderPlaceholders(readFileSync(join(folder, file), 'utf8'), values),
      )) {
        const execution = await run(statement);
        expect({ file, state: execution.Status?.State, reason: execution.Status?.StateChangeReason }).toEqual(
          {
            file,
            state: 'SUCCEEDED',
            reason: undefined,
          },
        );
        if (file.startsWith('15_')) repeated = await rows(execution);
        if (file.startsWith('40_')) answer = await rows(execution);
      }
    }
  }, 240_000);

  it('answers for every type exactly as written, each its own group with its own average', () => {
    expect(repeated).toEqual([]);
    expect(answer.map(([type, seconds, vehicles]) => [type, Number(seconds), Number(vehicles)])).toEqual(
      expect.arrayContaining(AWKWARD_VEHICLE_TYPES.map((type, i) => [type, 60 * (i + 1), 1])),
    );
    expect(answer).toHaveLength(AWKWARD_VEHICLE_TYPES.length);
  });

  it('declares the tables with vehicle_type as data and the key as the partition, and registers the keys in Glue', async () => {
    for (const [table, columns, keys] of [
      ['vehicles_data', ['vehicle_id', 'created_at', 'vehicle_type'], ['vehicle_type_key']],
      [
        'sensor_data',
        ['vehicle_id', 'timestamp', 'sensor_value', 'vehicle_type'],
        ['days', 'vehicle_type_key'],
      ],
    ] as const) {
      const { Table } = await glue.send(
        new GetTableCommand({ DatabaseName: env.GLUE_DATABASE, Name: table }),
      );
      expect(Table?.StorageDescriptor?.Columns?.map((column) => column.Name)).toEqual(columns);
      expect(Table?.PartitionKeys?.map((key) => key.Name)).toEqual(keys);
      const { Partitions } = await glue.send(
        new GetPartitionsCommand({ DatabaseName: env.GLUE_DATABASE, TableName: table }),
      );
      const registered = (Partitions ?? []).map((partition) => partition.Values?.at(-1) ?? '');
      expect([...new Set(registered)].sort()).toEqual(AWKWARD_VEHICLE_TYPES.map(partitionKeyOf).sort());
      for (const partition of Partitions ?? []) {
        expect(partition.Values?.at(-1)).toMatch(SAFE_PARTITION_KEY);
        expect(partition.StorageDescriptor?.Location).toMatch(
          new RegExp(`^s3://${env.WAREHOUSE_BUCKET}/${table}/(days=${RUN}/)?vehicle_type_key=[a-z0-9_-]+$`),
        );
      }
    }
  }, 60_000);

  it('computes the same key as partitionKeyOf, in Trino SQL the twin parses', async () => {
    const texts = fc.sample(
      fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.string({
          unit: fc.constantFrom('a', 'z', '0', '_', '-', 'A', '.', '\n', '\u0000', 'é'),
          maxLength: 70,
        }),
        fc.stringMatching(/^[a-z0-9_-]{1,70}$/),
      ),
      { numRuns: 200, seed: 901 },
    );
    const values = [...AWKWARD_VEHICLE_TYPES, ...texts.filter((text) => text.length > 0)];
    const execution = await run(
      `SELECT i, ${partitionKeySql('t')} AS k FROM (VALUES ${values
        .map((value, index) => `(${index}, ${sqlString(value)})`)
        .join(', ')}) AS v (i, t) ORDER BY i`,
    );
    expect(execution.Status?.StateChangeReason).toBeUndefined();
    expect((await rows(execution)).map(([, key]) => key)).toEqual(values.map(partitionKeyOf));
  }, 60_000);
});
