import { Stack } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase } from 'aws-cdk-lib/aws-glue';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from '../nag.js';
import { ATHENA_RESULTS_PREFIX } from './data-lake.js';
import type { FleetFunction } from './fleet-function.js';

export interface AnalyticsProps {
  databaseName: string;
  workGroupName: string;
  resultsBucket: IBucket;
  key: IKey;
  bytesScannedCutoffPerQuery: number;
}

/**
 * What the SQL statements of queries/ do in Athena, which acts with the caller's credentials: start and follow
 * queries in the workgroup, read the catalog, declare databases and tables (CREATE DATABASE, CREATE EXTERNAL
 * TABLE: the workgroup is enforced, so the warehouse tables are Hive DDL with their own LOCATION, not CTAS,
 * docs/decisions/0076) and add the partitions an INSERT INTO writes to the catalog
 * (https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html).
 */
const ATHENA_ACTIONS = [
  'athena:StartQueryExecution',
  'athena:GetQueryExecution',
  'athena:GetQueryResults',
  'athena:StopQueryExecution',
  'athena:GetWorkGroup',
];
/**
 * By statement: every one reads the database and the tables it names (GetDatabase, GetTable); CREATE DATABASE
 * IF NOT EXISTS and CREATE EXTERNAL TABLE (the raw tables, and the warehouse tables since decision 76) create
 * them; reading the warehouse tables, which have no partition projection, reads their partitions; INSERT INTO a
 * partitioned table adds the partitions it writes (BatchCreatePartition, CreatePartition) and, as Trino's Hive
 * connector does (Athena does not document it), updates those it adds files to (UpdatePartition). A CTAS
 * needs nothing more than these, so moving the warehouse tables from CTAS to DDL added or removed none.
 * GetDatabases, GetTables (listings) and UpdateTable (ALTER TABLE) are needed by no statement of queries/ by
 * Athena's documentation; they are kept for files a team adds rather than removed untested.
 */
const GLUE_ACTIONS = [
  'glue:GetDatabase',
  'glue:GetDatabases',
  // `CREATE DATABASE IF NOT EXISTS` in 10_raw_tables.sql asks Glue even when the database exists.
  'glue:CreateDatabase',
  'glue:GetTable',
  'glue:GetTables',
  'glue:CreateTable',
  'glue:UpdateTable',
  'glue:GetPartition',
  'glue:GetPartitions',
  'glue:BatchGetPartition',
  'glue:CreatePartition',
  'glue:BatchCreatePartition',
  'glue:UpdatePartition',
];

/**
 * The Glue database the SQL files fill and the Athena workgroup they run in. The workgroup enforces its own
 * result location and SSE-KMS encryption, so no client setting can send results elsewhere or unencrypted
 * (https://docs.aws.amazon.com/athena/latest/ug/workgroups-settings-override.html).
 */
export class Analytics extends Construct {
  readonly databaseName: string;
  readonly workGroupName: string;
  readonly workGroup: CfnWorkGroup;
  readonly database: CfnDatabase;

  constructor(scope: Construct, id: string, props: AnalyticsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.databaseName = props.databaseName;
    this.workGroupName = props.workGroupName;
    this.database = new CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: props.databaseName,
        description: 'fleet-etl raw tables (partition projection) and Parquet warehouse tables',
      },
    });
    this.workGroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: props.workGroupName,
      description: 'fleet-etl SQL files (queries/)',
      state: 'ENABLED',
      // The workgroup holds only query history; deleting the stage should not be blocked by it.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: props.resultsBucket.s3UrlForObject(ATHENA_RESULTS_PREFIX),
          expectedBucketOwner: stack.account,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.key.keyArn },
        },
      },
    });
  }

  get workGroupArn(): string {
    return Stack.of(this).formatArn({
      service: 'athena',
      resource: 'workgroup',
      resourceName: this.workGroupName,
    });
  }

  /**
   * Athena on the workgroup, Glue on the catalog, this database and its tables. The S3 side (which buckets the
   * statements read and write) is granted by the buckets, per service.
   */
  grantQueries(fn: FleetFunction): void {
    const stack = Stack.of(this);
    const glue = (resource: string, resourceName?: string) =>
      stack.formatArn({ service: 'glue', resource, ...(resourceName === undefined ? {} : { resourceName }) });
    const tables = glue('table', `${this.databaseName}/*`);
    fn.executionRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ATHENA_ACTIONS, resources: [this.workGroupArn] }),
    );
    // Before splitting an INSERT over Athena's 100-partition limit (a backfill), the query runner reads the
    // table's partition columns; GetTableMetadata is authorized on the data catalog, not on the workgroup
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonathena.html). Found by the
    // cloud twin (tests/cloud/iam): the backfill path was never granted.
    fn.executionRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['athena:GetTableMetadata'],
        resources: [
          stack.formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' }),
        ],
      }),
    );
    fn.executionRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: GLUE_ACTIONS,
        resources: [glue('catalog'), glue('database', this.databaseName), tables],
      }),
    );
    acknowledge(
      fn.executionRole,
      [wildcardResourceFinding(this, tables)],
      'The tables of this one Glue database: the SQL files create their tables at run time (raw_*, run_sensor_readings, ' +
        '*_data, vehicle_day_intervals, and whatever a new file adds), so they cannot be listed ahead; no other database is reachable.',
    );
  }
}
