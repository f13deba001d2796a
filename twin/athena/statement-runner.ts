import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { writeShapeOf } from '../../services/adapters/aws/athena/write-target.js';
import { type BridgePlan, translateStatement } from '../../services/adapters/local/duckdb/athena-bridge.js';
import {
  AthenaRuleError,
  UnsupportedStatementError,
} from '../../services/adapters/local/duckdb/bridge-errors.js';
import { confineToLake } from '../../services/adapters/local/duckdb/duckdb-sandbox.js';
import { keepLeadingByteOrderMarks } from '../../services/adapters/local/duckdb/duckdb-text.js';
import { openLocalCatalog } from '../../services/adapters/local/duckdb/local-catalog.js';
import { PlanExecutor } from '../../services/adapters/local/duckdb/plan-executor.js';
import { quoteIdentifier } from '../../services/adapters/local/duckdb/sql-literals.js';
import type { StatementKind } from '../../services/adapters/local/duckdb/statement-kinds.js';
import type { TableDefinition } from '../../services/adapters/local/duckdb/table-definition.js';
import { FORMAT_EXTENSIONS } from '../../services/adapters/local/duckdb/table-formats.js';
import { ViewRefresher } from '../../services/adapters/local/duckdb/table-views.js';
import { filesBelow } from '../../services/adapters/local/duckdb/table-writer.js';
import { installTrinoFunctions } from '../../services/adapters/local/duckdb/trino-functions.js';
import { TerminalError } from '../../services/shared/errors.js';
import { AthenaQueryFailure, ErrorType } from './athena-failure.js';
import { type AthenaS3, parseS3Url, S3AccessDenied } from './athena-s3.js';
import { type AthenaResultSet, athenaResultSet, resultCsv } from './athena-values.js';
import { type GlueCatalog, type GlueTable, hiveTypeOf, STORAGE_OF_FORMAT } from './glue-catalog.js';
import { tableReferences } from './sql-grammars.js';
import { createDatabaseOf, tableProperties, withExternalLocation } from './statement-text.js';

/**
 * The same session settings as the local engine (services/adapters/local/duckdb/duckdb-query-engine.ts), which does
 * not export them: Trino's semantics DuckDB does not share by default.
 */
const SESSION_SETTINGS: readonly string[] = [
  "SET TimeZone = 'UTC'",
  'SET integer_division = true',
  "SET default_null_order = 'nulls_last'",
  "SET disabled_optimizers = 'build_side_probe_side'",
];

/** Athena's own limit on partitions one CTAS or INSERT INTO writes (https://docs.aws.amazon.com/athena/latest/ug/ctas-insert-into.html). */
const MAX_OPEN_PARTITIONS = 100;

/** What the runner may do on the caller's behalf: Glue actions (authorized), S3 requests (through the front). */
export interface StatementScope {
  queryExecutionId: string;
  /** The query's context database. */
  database: string;
  /** `s3://bucket/prefix/` of this query's results. */
  outputLocation: string;
  /** The key results and written data are encrypted with (SSE_KMS), if any. */
  kmsKey: string | undefined;
  bytesScannedCutoff: number | undefined;
  catalog: GlueCatalog;
  /** Throws AthenaQueryFailure when the caller may not. */
  glue(action: string, database: string, table?: string): Promise<void>;
  s3: AthenaS3;
  /** True once StopQueryExecution asked for it: the runner stops before writing anything. */
  cancelled(): boolean;
}

export interface StatementOutcome {
  scannedBytes: number;
  /** `s3://...-manifest.csv` of a CTAS or INSERT INTO. */
  manifest?: string;
  resultLocation: string;
  result?: AthenaResultSet;
}

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Runs one statement as Athena would, over the twin's Glue catalog and S3: catalog statements change the catalog;
 * reads and writes go through the DuckDB bridge over a folder holding the S3 objects the statement reads
 * (fetched with the caller's credentials), and what the bridge wrote is put back to S3 the same way.
 */
export async function runStatement(
  statement: string,
  kind: StatementKind,
  scope: StatementScope,
): Promise<StatementOutcome> {
  const resultLocation = `${scope.outputLocation}${scope.queryExecutionId}${kind === 'query' ? '.csv' : '.txt'}`;
  try {
    switch (kind) {
      case 'createDatabase':
        await createDatabase(statement, scope);
        break;
      case 'createExternalTable':
        await createExternalTable(statement, scope);
        break;
      case 'dropTable':
        await dropTable(statement, scope);
        break;
      case 'query':
      case 'insert':
      case 'createTableAs':
        return await new DuckDbRun(scope).run(statement, kind);
      default:
        throw new AthenaQueryFailure(
          `NOT_SUPPORTED: the cloud twin does not emulate ${kind} statements (twin/README.md)`,
          ErrorType.queryNotSupported,
        );
    }
    await putResult(scope, resultLocation, '');
    return { scannedBytes: 0, resultLocation };
  } catch (error) {
    throw asQueryFailure(error, scope);
  }
}

/** The bridge's, DuckDB's and S3's failures, as Athena reports them. */
function asQueryFailure(error: unknown, scope: StatementScope): AthenaQueryFailure {
  if (error instanceof AthenaQueryFailure) return error;
  if (error instanceof S3AccessDenied) {
    return error.url.startsWith(scope.outputLocation)
      ? new AthenaQueryFailure(
          `Access denied when writing output to url: ${error.url} . Please ensure you are allowed to access the ` +
            'S3 bucket. If you are encrypting query results with KMS key, please ensure you are allowed to access ' +
            `your KMS key (${error.s3Message})`,
          ErrorType.failedToWriteResults,
        )
      : new AthenaQueryFailure(
          `Permission denied on S3 path: ${error.url} (${error.s3Message})`,
          ErrorType.s3PermissionError,
        );
  }
  if (error instanceof UnsupportedStatementError)
    return new AthenaQueryFailure(
      `NOT_SUPPORTED: the cloud twin's DuckDB bridge: ${error.message}`,
      ErrorType.queryNotSupported,
    );
  if (error instanceof AthenaRuleError) return new AthenaQueryFailure(error.message, ErrorType.userError);
  const message = error instanceof Error ? error.message : String(error);
  if (/Catalog Error: Table with name .* does not exist/.test(message))
    return new AthenaQueryFailure(`TABLE_NOT_FOUND: ${message}`, ErrorType.tableNotFound);
  if (error instanceof TerminalError || /^(Binder|Parser|Conversion|Invalid Input) Error/.test(message))
    return new AthenaQueryFailure(message, ErrorType.userError);
  return new AthenaQueryFailure(`the cloud twin failed the query: ${message}`, 100, 1);
}

async function putResult(scope: StatementScope, url: string, body: string): Promise<void> {
  const target = parseS3Url(url);
  if (target === undefined) throw new Error(`not an S3 URL: ${url}`);
  await scope.s3.put(target.bucket, target.key, body, scope.kmsKey);
}

async function createDatabase(statement: string, scope: StatementScope): Promise<void> {
  const { name, ifNotExists } = createDatabaseOf(statement);
  // Athena asks Glue to create it even when it exists (IF NOT EXISTS then ignores AlreadyExistsException).
  await scope.glue('glue:CreateDatabase', name);
  if (!scope.catalog.createDatabase(name) && !ifNotExists)
    throw new AthenaQueryFailure(`Database ${name} already exists`, ErrorType.ddlTaskFailed);
}

async function createExternalTable(statement: string, scope: StatementScope): Promise<void> {
  const plan = translateStatement(statement);
  if (plan.kind !== 'createExternalTable')
    throw new Error(`expected CREATE EXTERNAL TABLE, got ${plan.kind}`);
  const { schema: database, name } = plan.table;
  await existingDatabase(database, scope);
  await scope.glue('glue:GetTable', database, name);
  if (scope.catalog.table(database, name) !== undefined) {
    if (plan.ifNotExists) return;
    throw new AthenaQueryFailure(
      `AlreadyExistsException: Table ${database}.${name} already exists`,
      ErrorType.ddlTaskFailed,
    );
  }
  if (parseS3Url(plan.definition.location) === undefined)
    throw new AthenaQueryFailure(
      `LOCATION ${plan.definition.location}: Athena reads tables from s3:// locations`,
      ErrorType.userError,
    );
  await scope.glue('glue:CreateTable', database, name);
  scope.catalog.putTable(glueTableOf(database, name, plan.definition, tableProperties(statement)));
}

async function dropTable(statement: string, scope: StatementScope): Promise<void> {
  const plan = translateStatement(statement);
  if (plan.kind !== 'dropTable') throw new Error(`expected DROP TABLE, got ${plan.kind}`);
  const { schema: database, name } = plan.table;
  await scope.glue('glue:GetTable', database, name);
  if (scope.catalog.table(database, name) === undefined) {
    if (plan.ifExists) return;
    throw new AthenaQueryFailure(
      `TABLE_NOT_FOUND: Table ${database}.${name} does not exist`,
      ErrorType.tableNotFound,
    );
  }
  // As in Athena, dropping an external table forgets it; its objects stay in S3.
  await scope.glue('glue:DeleteTable', database, name);
  scope.catalog.dropTable(database, name);
}

async function existingDatabase(database: string, scope: StatementScope): Promise<void> {
  await scope.glue('glue:GetDatabase', database);
  if (scope.catalog.database(database) === undefined)
    throw new AthenaQueryFailure(
      `SCHEMA_NOT_FOUND: Schema ${database} does not exist`,
      ErrorType.tableNotFound,
    );
}

function glueTableOf(
  database: string,
  name: string,
  definition: TableDefinition,
  parameters: Record<string, string>,
): GlueTable {
  const storage = STORAGE_OF_FORMAT[definition.format];
  const column = (c: { name: string; type: string }) => ({ Name: c.name, Type: hiveTypeOf(c.type) });
  return {
    database,
    name,
    location: definition.location.replace(/\/+$/, ''),
    columns: definition.columns.filter((c) => !definition.partitionColumns.includes(c.name)).map(column),
    partitionKeys: definition.columns.filter((c) => definition.partitionColumns.includes(c.name)).map(column),
    serializationLibrary: storage.serde,
    inputFormat: storage.input,
    outputFormat: storage.output,
    parameters,
    createTime: new Date(),
    definition,
  };
}

/** One statement on DuckDB, in a scratch folder that mirrors the S3 objects it reads. */
class DuckDbRun {
  readonly #scope: StatementScope;
  #folder = '';
  #scanned = 0;
  readonly #bucketsSeen = new Set<string>();

  constructor(scope: StatementScope) {
    this.#scope = scope;
  }

  /** Where an s3:// location lives in the scratch folder, as the file:// URL the bridge reads. */
  #localUrl(location: string): string {
    const parsed = parseS3Url(location);
    if (parsed === undefined)
      throw new AthenaQueryFailure(`not an S3 location: ${location}`, ErrorType.userError);
    return pathToFileURL(path.join(this.#folder, 's3', parsed.bucket, parsed.key.replace(/\/+$/, ''))).href;
  }

  async run(statement: string, kind: 'query' | 'insert' | 'createTableAs'): Promise<StatementOutcome> {
    const scope = this.#scope;
    const sql =
      kind === 'createTableAs'
        ? withExternalLocation(statement, `${scope.outputLocation}tables/${scope.queryExecutionId}`)
        : statement;
    // CTAS: the table must not exist (IF NOT EXISTS: nothing happens), its location must hold nothing.
    const plan = translateStatement(sql);
    if (plan.kind === 'createTableAs') {
      await existingDatabase(plan.table.schema, scope);
      await scope.glue('glue:GetTable', plan.table.schema, plan.table.name);
      if (scope.catalog.table(plan.table.schema, plan.table.name) !== undefined) {
        if (plan.ifNotExists) return this.#finish(kind, undefined, []);
        throw new AthenaQueryFailure(
          `TABLE_ALREADY_EXISTS: Table 'awsdatacatalog.${plan.table.schema}.${plan.table.name}' already exists`,
          ErrorType.userError,
        );
      }
      await this.#assertEmpty(plan.location, `${plan.table.schema}.${plan.table.name}`);
    }
    const readText = kind === 'insert' ? writeShapeQuery(statement) : statement;
    this.#folder = await mkdtemp(path.join(tmpdir(), 'twin-athena-'));
    keepLeadingByteOrderMarks();
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const outcome = await this.#execute(connection, plan, kind, readText);
      return outcome;
    } finally {
      connection.closeSync();
      instance.closeSync();
      await rm(this.#folder, { recursive: true, force: true });
    }
  }

  async #execute(
    connection: DuckDBConnection,
    plan: BridgePlan,
    kind: 'query' | 'insert' | 'createTableAs',
    readText: string,
  ): Promise<StatementOutcome> {
    const scope = this.#scope;
    for (const setting of SESSION_SETTINGS) await connection.run(setting);
    await installTrinoFunctions(connection);
    const local = await openLocalCatalog(connection);
    await confineToLake(connection, { lake: this.#folder, warehouse: path.join(this.#folder, 's3') });
    const schemas = new Set([scope.database]);
    // The tables the statement reads, with the objects Athena would read for them.
    for (const reference of await tableReferences(readText)) {
      const table = this.#resolve(reference);
      if (table === undefined) continue;
      schemas.add(table.database);
      await this.#materialize(table, readText);
      await local.put({ schema: table.database, name: table.name }, this.#localDefinition(table));
    }
    let target: GlueTable | undefined;
    if (plan.kind === 'insert') {
      await existingDatabase(plan.table.schema, scope);
      await scope.glue('glue:GetTable', plan.table.schema, plan.table.name);
      target = scope.catalog.table(plan.table.schema, plan.table.name);
      if (target === undefined)
        throw new AthenaQueryFailure(
          `TABLE_NOT_FOUND: Table 'awsdatacatalog.${plan.table.schema}.${plan.table.name}' does not exist`,
          ErrorType.tableNotFound,
        );
      schemas.add(target.database);
      await local.put({ schema: target.database, name: target.name }, this.#localDefinition(target));
    }
    if (plan.kind === 'createTableAs') schemas.add(plan.table.schema);
    for (const schema of schemas)
      await connection.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
    if (scope.bytesScannedCutoff !== undefined && this.#scanned > scope.bytesScannedCutoff)
      throw new AthenaQueryFailure(
        `Query cancelled: bytes scanned limit was exceeded (${this.#scanned} > ${scope.bytesScannedCutoff})`,
        ErrorType.queryRejected,
        2,
        'CANCELLED',
      );
    const views = new ViewRefresher(connection, local);
    const executor = new PlanExecutor(connection, local, views);

    if (plan.kind === 'query') {
      await views.refreshAll();
      const result = athenaResultSet(await connection.runAndReadAll(plan.sql));
      return this.#finish(kind, result, []);
    }
    const writtenRoot =
      plan.kind === 'insert'
        ? (target as GlueTable).location
        : plan.kind === 'createTableAs'
          ? plan.location
          : undefined;
    if (writtenRoot === undefined) throw new Error(`unexpected plan ${plan.kind}`);
    const localRoot = new URL(this.#localUrl(writtenRoot)).pathname;
    const before = new Set(await filesBelow(localRoot));
    // The bridge names written files after a run id; the query execution id names them here.
    await executor.run(
      plan.kind === 'createTableAs' ? { ...plan, location: this.#localUrl(plan.location) } : plan,
      scope.queryExecutionId,
    );
    const written = (await filesBelow(localRoot)).filter((file) => !before.has(file)).sort();
    const partitionFolders = [
      ...new Set(written.map((file) => path.dirname(path.relative(localRoot, file)))),
    ].filter((folder) => folder !== '.');
    // Athena opens one writer per partition and refuses a write over 100 of them, for CTAS and INSERT INTO alike.
    if (partitionFolders.length > MAX_OPEN_PARTITIONS)
      throw new AthenaQueryFailure(
        `HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of ${MAX_OPEN_PARTITIONS} open writers for partitions/buckets. ` +
          `The query writes ${partitionFolders.length} partitions; write at most ${MAX_OPEN_PARTITIONS} per CTAS or ` +
          'INSERT INTO (https://docs.aws.amazon.com/athena/latest/ug/ctas-insert-into.html)',
        ErrorType.userError,
      );
    if (scope.cancelled()) throw new AthenaQueryFailure('Query was cancelled by user', 1011, 2, 'CANCELLED');
    let table = target;
    if (plan.kind === 'createTableAs') {
      const definition = await local.get(plan.table);
      if (definition === undefined) throw new Error(`the bridge did not register ${plan.table.name}`);
      await scope.glue('glue:CreateTable', plan.table.schema, plan.table.name);
      table = glueTableOf(
        plan.table.schema,
        plan.table.name,
        { ...definition, location: plan.location },
        {
          ...(definition.codec === null ? {} : { 'parquet.compression': definition.codec.toUpperCase() }),
        },
      );
      scope.catalog.putTable(table);
    }
    if (table === undefined) throw new Error('no table written');
    const urls: string[] = [];
    for (const file of written) {
      const url = `${table.location}/${path.relative(localRoot, file).split(path.sep).join('/')}`;
      const object = parseS3Url(url);
      if (object === undefined) throw new Error(`not an S3 URL: ${url}`);
      // Athena encrypts the data files of a CTAS or INSERT INTO like its query results.
      await scope.s3.put(object.bucket, object.key, await readFile(file), scope.kmsKey);
      urls.push(url);
    }
    await this.#registerPartitions(table, partitionFolders);
    return this.#finish(kind, undefined, urls);
  }

  /** INSERT INTO a partitioned table adds the partitions it wrote to the catalog (BatchCreatePartition). */
  async #registerPartitions(table: GlueTable, folders: readonly string[]): Promise<void> {
    if (table.partitionKeys.length === 0 || folders.length === 0) return;
    const partitions = folders.map((folder) => {
      const parts = folder.split(path.sep);
      const values = table.partitionKeys.map((key, index) => {
        const [name, ...value] = (parts[index] ?? '').split('=');
        if (name !== key.Name) throw new Error(`partition folder ${folder} does not match ${key.Name}`);
        return decodeURIComponent(value.join('='));
      });
      return { values, location: `${table.location}/${parts.join('/')}`, createTime: new Date() };
    });
    const known = new Set(
      this.#scope.catalog.partitions(table.database, table.name).map((p) => JSON.stringify(p.values)),
    );
    const added = partitions.filter((p) => !known.has(JSON.stringify(p.values)));
    if (added.length === 0) return;
    await this.#scope.glue('glue:BatchCreatePartition', table.database, table.name);
    this.#scope.catalog.addPartitions(table.database, table.name, added);
  }

  async #finish(
    kind: 'query' | 'insert' | 'createTableAs',
    result: AthenaResultSet | undefined,
    written: readonly string[],
  ): Promise<StatementOutcome> {
    const scope = this.#scope;
    if (kind === 'query') {
      const resultLocation = `${scope.outputLocation}${scope.queryExecutionId}.csv`;
      await putResult(scope, resultLocation, resultCsv(result ?? { columns: [], rows: [] }));
      return { scannedBytes: this.#scanned, resultLocation, ...(result === undefined ? {} : { result }) };
    }
    // The data manifest lists every file the write added (https://docs.aws.amazon.com/athena/latest/ug/querying-finding-output-files.html).
    const manifest = `${scope.outputLocation}${scope.queryExecutionId}-manifest.csv`;
    await putResult(scope, manifest, written.map((url) => `${url}\n`).join(''));
    return { scannedBytes: this.#scanned, manifest, resultLocation: manifest };
  }

  /** A CTAS never writes where objects already are (https://docs.aws.amazon.com/athena/latest/ug/ctas-considerations-limitations.html). */
  async #assertEmpty(location: string, table: string): Promise<void> {
    const parsed = parseS3Url(`${location.replace(/\/+$/, '')}/`);
    if (parsed === undefined)
      throw new AthenaQueryFailure(`not an S3 location: ${location}`, ErrorType.userError);
    const objects = await this.#scope.s3.list(parsed.bucket, parsed.key);
    if (objects.length > 0)
      throw new AthenaQueryFailure(
        `HIVE_PATH_ALREADY_EXISTS: Target directory for table '${table}' already exists: ${location}. You may need ` +
          `to manually clean the data at location '${location}' before retrying. Athena will not delete data in ` +
          'your account.',
        ErrorType.userError,
      );
  }

  #resolve(reference: readonly string[]): GlueTable | undefined {
    const [first, second, third] = reference;
    const catalog = this.#scope.catalog;
    if (third !== undefined)
      return sameName(first ?? '', 'awsdatacatalog') ? catalog.table(second ?? '', third) : undefined;
    if (second !== undefined) return catalog.table(first ?? '', second);
    return first === undefined ? undefined : catalog.table(this.#scope.database, first);
  }

  #localDefinition(table: GlueTable): TableDefinition {
    return { ...table.definition, location: this.#localUrl(table.location) };
  }

  /** Fetches, with the caller's credentials, the objects Athena reads for the table in this statement. */
  async #materialize(table: GlueTable, statement: string): Promise<void> {
    const scope = this.#scope;
    await scope.glue('glue:GetDatabase', table.database);
    await scope.glue('glue:GetTable', table.database, table.name);
    for (const prefix of await this.#prefixesToRead(table, statement)) {
      const parsed = parseS3Url(`${prefix.replace(/\/+$/, '')}/`);
      if (parsed === undefined)
        throw new AthenaQueryFailure(`not an S3 location: ${prefix}`, ErrorType.userError);
      if (!this.#bucketsSeen.has(parsed.bucket)) {
        await scope.s3.bucketLocation(parsed.bucket);
        this.#bucketsSeen.add(parsed.bucket);
      }
      const extension = FORMAT_EXTENSIONS[table.definition.format];
      for (const object of await scope.s3.list(parsed.bucket, parsed.key)) {
        const name = object.key.slice(object.key.lastIndexOf('/') + 1);
        // Hive (and so Athena) skips files whose names start with _ or . and folder markers.
        if (name === '' || name.startsWith('_') || name.startsWith('.')) continue;
        const body = await scope.s3.get(parsed.bucket, object.key);
        const file = path.join(this.#folder, 's3', parsed.bucket, object.key);
        await mkdir(path.dirname(file), { recursive: true });
        // The bridge globs by extension; in S3 a table's files need none.
        await writeFile(name.endsWith(`.${extension}`) ? file : `${file}.${extension}`, body);
        this.#scanned += body.byteLength;
      }
    }
  }

  /**
   * Partition projection computes the folders from the statement's filter; a table of registered partitions
   * reads the partitions Glue lists (GetPartitions); any other table reads its whole location.
   */
  async #prefixesToRead(table: GlueTable, statement: string): Promise<string[]> {
    const keys = table.partitionKeys.map((key) => key.Name);
    if (keys.length === 0) return [table.location];
    if (table.parameters['projection.enabled']?.toLowerCase() === 'true') {
      const values = keys.map((key) => equalityLiterals(statement, key));
      for (const [index, key] of keys.entries()) {
        if (
          table.parameters[`projection.${key}.type`]?.toLowerCase() === 'injected' &&
          values[index]?.length === 0
        )
          throw new AthenaQueryFailure(
            `CONSTRAINT_VIOLATION: For the injected projected partition column ${key}, the WHERE clause must ` +
              'contain only static equality conditions, and at least one such condition must be present. ' +
              '(https://docs.aws.amazon.com/athena/latest/ug/partition-projection-dynamic-id-partitioning.html)',
            ErrorType.userError,
          );
      }
      if (values.some((v) => v.length === 0)) return [table.location];
      const template =
        table.parameters['storage.location.template'] ??
        [table.location, ...keys.map((k) => `${k}=\${${k}}`)].join('/');
      return combinations(values).map((combination) =>
        keys.reduce((text, key, index) => text.replaceAll(`\${${key}}`, combination[index] ?? ''), template),
      );
    }
    await this.#scope.glue('glue:GetPartitions', table.database, table.name);
    return this.#scope.catalog.partitions(table.database, table.name).map((partition) => partition.location);
  }
}

/** The query of an INSERT INTO (what it reads); the target is not read. */
function writeShapeQuery(statement: string): string {
  const shape = writeShapeOf(statement);
  return shape?.kind === 'insert' ? shape.query : statement;
}

/** The literals a statement compares a column with (`run = 'x'`, `r.run = 'x'`); projection needs them. */
function equalityLiterals(statement: string, column: string): string[] {
  const pattern = new RegExp(`(?:^|[^\\w."])(?:\\w+\\.)?"?${column}"?\\s*=\\s*'((?:[^']|'')*)'`, 'gi');
  return [
    ...new Set([...statement.matchAll(pattern)].map((match) => (match[1] ?? '').replaceAll("''", "'"))),
  ];
}

function combinations(values: readonly string[][]): string[][] {
  return values.reduce<string[][]>(
    (acc, options) => acc.flatMap((prefix) => options.map((option) => [...prefix, option])),
    [[]],
  );
}
