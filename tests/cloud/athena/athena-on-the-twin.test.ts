import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetTableMetadataCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { GetPartitionsCommand, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CloudTwin } from '../../../twin/cloud-twin.js';
import { functionOfConstruct, type TwinBucket } from '../../../twin/template/stack-model.js';
import { TWIN_REGION } from '../../../twin/twin-account.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';

let stack: TwinStack;
let twin: CloudTwin;
let athena: AthenaClient;
let glue: GlueClient;
let env: Readonly<Record<string, string>>;
const RUN = '2026-11-24';

const bucket = (prefix: string): TwinBucket => {
  const found = [...twin.model.buckets.values()].find((b) => b.logicalId.startsWith(prefix));
  if (found === undefined)
    throw new Error(`no bucket ${prefix} among ${[...twin.model.buckets.keys()].join(', ')}`);
  return found;
};

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
  // A raw page as the downloader lands it, with its own role.
  const downloader = functionOfConstruct(twin.model, 'Services/Downloader');
  const s3 = new S3Client({ ...config, forcePathStyle: true, credentials: twin.credentialsOf(downloader) });
  const vehicles = Array.from({ length: 2500 }, (_, i) =>
    JSON.stringify({
      vehicle_id: `v-${String(i).padStart(4, '0')}`,
      vehicle_type: ['bus', 'car', 'truck'][i % 3],
      created_at: '2026-11-24T01:02:03Z',
    }),
  ).join('\n');
  await s3.send(
    new PutObjectCommand({
      Bucket: env.RAW_BUCKET,
      Key: `vehicles/run=${RUN}/page-00001.ndjson`,
      Body: `${vehicles}\n`,
    }),
  );
  s3.destroy();
}, 120_000);

afterAll(async () => {
  athena?.destroy();
  glue?.destroy();
  await twin?.stop();
  discardTwinStack(stack);
});

const sql = (text: string) =>
  text
    .replaceAll('@database', env.GLUE_DATABASE ?? '')
    .replaceAll('@raw', `s3://${env.RAW_BUCKET}`)
    .replaceAll('@warehouse', `s3://${env.WAREHOUSE_BUCKET}`);

async function start(query: string): Promise<string> {
  const started = await athena.send(
    new StartQueryExecutionCommand({
      QueryString: sql(query),
      WorkGroup: env.ATHENA_WORKGROUP,
      QueryExecutionContext: { Database: env.GLUE_DATABASE },
    }),
  );
  if (started.QueryExecutionId === undefined) throw new Error('no id');
  return started.QueryExecutionId;
}

async function finished(id: string): Promise<QueryExecution> {
  for (;;) {
    const { QueryExecution: execution } = await athena.send(
      new GetQueryExecutionCommand({ QueryExecutionId: id }),
    );
    const state = execution?.Status?.State;
    if (execution !== undefined && state !== 'QUEUED' && state !== 'RUNNING') return execution;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const run = async (query: string) => finished(await start(query));

const RAW_VEHICLES = `CREATE EXTERNAL TABLE IF NOT EXISTS @database.raw_vehicles (
  vehicle_id string,
  vehicle_type string,
  created_at string
)
PARTITIONED BY (run string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '@raw/vehicles/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.run.type' = 'injected',
  'storage.location.template' = '@raw/vehicles/run=\${run}/'
)`;

describe('Athena and Glue on the cloud twin, called with the query runner role', () => {
  it('runs DDL and a query: QUEUED or RUNNING first, then SUCCEEDED with its statistics; results come in pages of 1,000 after a header row', async () => {
    expect((await run('CREATE DATABASE IF NOT EXISTS @database')).Status?.State).toBe('SUCCEEDED');
    const ddl = await run(RAW_VEHICLES);
    expect(ddl).toMatchObject({ StatementType: 'DDL', Status: { State: 'SUCCEEDED' } });

    const id = await start(
      `SELECT vehicle_id, vehicle_type FROM @database.raw_vehicles WHERE run = '${RUN}' ORDER BY vehicle_id`,
    );
    const first = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    expect(['QUEUED', 'RUNNING']).toContain(first.QueryExecution?.Status?.State);
    const execution = await finished(id);
    expect(execution).toMatchObject({ StatementType: 'DML', Status: { State: 'SUCCEEDED' } });
    expect(execution.Statistics?.DataScannedInBytes).toBeGreaterThan(2500 * 60);
    expect(execution.ResultConfiguration?.OutputLocation).toBe(`s3://${env.RESULTS_BUCKET}/athena/${id}.csv`);

    const pages: string[][][] = [];
    let token: string | undefined;
    do {
      const page = await athena.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1000, NextToken: token }),
      );
      pages.push(
        (page.ResultSet?.Rows ?? []).map((row) => (row.Data ?? []).map((d) => d.VarCharValue ?? '')),
      );
      expect(page.ResultSet?.ResultSetMetadata?.ColumnInfo?.map((c) => [c.Name, c.Type])).toEqual([
        ['vehicle_id', 'varchar'],
        ['vehicle_type', 'varchar'],
      ]);
      token = page.NextToken;
    } while (token !== undefined);
    expect(pages.map((page) => page.length)).toEqual([1000, 1000, 501]);
    expect(pages[0]?.[0]).toEqual(['vehicle_id', 'vehicle_type']);
    expect(pages[0]?.[1]).toEqual(['v-0000', 'bus']);
    expect(pages[2]?.at(-1)).toEqual(['v-2499', 'bus']);
  }, 60_000);

  it('refuses a query on an injected projection without its equality filter, as Athena does', async () => {
    const execution = await run('SELECT count(*) FROM @database.raw_vehicles');
    expect(execution.Status).toMatchObject({
      State: 'FAILED',
      AthenaError: { ErrorCategory: 2 },
      StateChangeReason: expect.stringMatching(
        /^CONSTRAINT_VIOLATION: For the injected projected partition column run/,
      ),
    });
  }, 60_000);

  it('creates a Parquet table with Hive DDL, INSERT INTO writes its files, lists them in a data manifest and registers its partitions in Glue', async () => {
    const created = await run(`CREATE EXTERNAL TABLE IF NOT EXISTS @database.vehicles_data (
      vehicle_id string,
      created_at timestamp
    )
    PARTITIONED BY (vehicle_type string)
    STORED AS PARQUET
    LOCATION '@warehouse/vehicles_data/'
    TBLPROPERTIES ('parquet.compression' = 'SNAPPY')`);
    expect(created.Status?.State).toBe('SUCCEEDED');
    const insert = await run(`INSERT INTO @database.vehicles_data
      SELECT vehicle_id, CAST(from_iso8601_timestamp(created_at) AS timestamp) AS created_at, vehicle_type
      FROM @database.raw_vehicles WHERE run = '${RUN}'`);
    expect(insert).toMatchObject({ StatementType: 'DML', Status: { State: 'SUCCEEDED' } });
    const manifest = insert.Statistics?.DataManifestLocation;
    expect(manifest).toBe(`s3://${env.RESULTS_BUCKET}/athena/${insert.QueryExecutionId}-manifest.csv`);
    const runner = functionOfConstruct(twin.model, 'Services/QueryRunner');
    const s3 = new S3Client({
      region: TWIN_REGION,
      endpoint: twin.endpoint,
      forcePathStyle: true,
      credentials: twin.credentialsOf(runner),
    });
    const listed = await (
      await s3.send(
        new GetObjectCommand({
          Bucket: env.RESULTS_BUCKET,
          Key: `athena/${insert.QueryExecutionId}-manifest.csv`,
        }),
      )
    ).Body?.transformToString();
    s3.destroy();
    const files = (listed ?? '').trim().split('\n');
    expect(files).toHaveLength(3);
    for (const type of ['bus', 'car', 'truck'])
      expect(files).toContainEqual(
        expect.stringMatching(
          new RegExp(`^s3://${env.WAREHOUSE_BUCKET}/vehicles_data/vehicle_type=${type}/`),
        ),
      );

    const partitions = await glue.send(
      new GetPartitionsCommand({ DatabaseName: env.GLUE_DATABASE, TableName: 'vehicles_data' }),
    );
    expect(partitions.Partitions?.map((p) => p.Values).sort()).toEqual([['bus'], ['car'], ['truck']]);
    const table = await glue.send(
      new GetTableCommand({ DatabaseName: env.GLUE_DATABASE, Name: 'vehicles_data' }),
    );
    expect(table.Table?.PartitionKeys).toEqual([{ Name: 'vehicle_type', Type: 'string' }]);
    const metadata = await athena.send(
      new GetTableMetadataCommand({
        CatalogName: 'AwsDataCatalog',
        DatabaseName: env.GLUE_DATABASE,
        TableName: 'vehicles_data',
      }),
    );
    expect(metadata.TableMetadata?.Columns?.map((c) => c.Name)).toEqual(['vehicle_id', 'created_at']);

    const counted = await run(
      'SELECT vehicle_type, count(*) AS vehicles FROM @database.vehicles_data GROUP BY vehicle_type ORDER BY vehicle_type',
    );
    const rows = await athena.send(
      new GetQueryResultsCommand({ QueryExecutionId: counted.QueryExecutionId }),
    );
    expect(rows.ResultSet?.Rows?.map((r) => r.Data?.map((d) => d.VarCharValue))).toEqual([
      ['vehicle_type', 'vehicles'],
      ['bus', '834'],
      ['car', '833'],
      ['truck', '833'],
    ]);
    // Written with the caller's credentials, through Athena, under the workgroup's key.
    const key = twin.model.workGroups.values().next().value?.encryption?.kmsKey;
    expect(twin.authorizer.allowedRequests()).toContainEqual(
      expect.objectContaining({
        action: 'kms:GenerateDataKey',
        resource: key,
        calledVia: 'athena.amazonaws.com',
      }),
    );
    expect(twin.authorizer.allowedRequests()).toContainEqual(
      expect.objectContaining({ action: 'glue:BatchCreatePartition', calledVia: 'athena.amazonaws.com' }),
    );
  }, 60_000);

  it('refuses a CTAS naming external_location in the enforced workgroup at StartQueryExecution', async () => {
    await expect(
      start(`CREATE TABLE @database.elsewhere WITH (format = 'PARQUET', external_location = '@warehouse/elsewhere/')
        AS SELECT 1 AS one`),
    ).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringContaining(
        "submitted with an 'external_location' property to an Athena Workgroup",
      ),
    });
  }, 60_000);

  it('puts a CTAS without a location under the workgroup result location, tables/<query id>/', async () => {
    const ctas = await run("CREATE TABLE @database.ones WITH (format = 'PARQUET') AS SELECT 1 AS one");
    expect(ctas.Status?.StateChangeReason).toBeUndefined();
    expect(ctas).toMatchObject({ StatementType: 'DDL', Status: { State: 'SUCCEEDED' } });
    const table = await glue.send(new GetTableCommand({ DatabaseName: env.GLUE_DATABASE, Name: 'ones' }));
    expect(table.Table?.StorageDescriptor?.Location).toBe(
      `s3://${env.RESULTS_BUCKET}/athena/tables/${ctas.QueryExecutionId}/`,
    );
  }, 60_000);

  it("fails a statement Trino's grammar refuses, as Athena's parser does, before DuckDB sees it", async () => {
    // DuckDB accepts QUALIFY; Trino does not.
    const execution = await run(
      'SELECT vehicle_id FROM @database.vehicles_data QUALIFY row_number() OVER (PARTITION BY vehicle_type) = 1',
    );
    expect(execution.Status).toMatchObject({
      State: 'FAILED',
      AthenaError: { ErrorCategory: 2, ErrorType: 1006 },
      StateChangeReason: expect.stringMatching(/^line 1:\d+: /),
    });
  }, 60_000);

  it('refuses an INSERT INTO that writes more than 100 partitions (HIVE_TOO_MANY_OPEN_PARTITIONS) and writes nothing', async () => {
    const values = Array.from(
      { length: 101 },
      (_, i) => `('v${i}', TIMESTAMP '2026-11-24 00:00:00', 'type${i}')`,
    ).join(', ');
    const execution = await run(
      `INSERT INTO @database.vehicles_data SELECT * FROM (VALUES ${values}) AS t (a, b, c)`,
    );
    expect(execution.Status).toMatchObject({
      State: 'FAILED',
      StateChangeReason: expect.stringMatching(/^HIVE_TOO_MANY_OPEN_PARTITIONS: /),
    });
    const partitions = await glue.send(
      new GetPartitionsCommand({ DatabaseName: env.GLUE_DATABASE, TableName: 'vehicles_data' }),
    );
    expect(partitions.Partitions).toHaveLength(3);
  }, 60_000);

  it("fails a query when the caller's role may not read the table's bucket: Athena reads with the caller's permissions", async () => {
    const logs = bucket('LakeAccessLogs').name;
    await run(`CREATE EXTERNAL TABLE @database.access_logs (line string)
      ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://${logs}/logs/'`);
    const execution = await run('SELECT count(*) FROM @database.access_logs');
    expect(execution.Status).toMatchObject({
      State: 'FAILED',
      AthenaError: { ErrorCategory: 2, ErrorType: 1501 },
      StateChangeReason: expect.stringContaining(`Permission denied on S3 path: s3://${logs}`),
    });
    expect(twin.refusals.at(-1)).toMatchObject({
      action: 's3:GetBucketLocation',
      resource: `arn:aws:s3:::${logs}`,
    });
  }, 60_000);
});
