import { createHash } from 'node:crypto';
import { type AthenaClient, GetTableMetadataCommand } from '@aws-sdk/client-athena';
import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { RunIdSchema } from '../../../../events/index.js';
import { type Clock, systemClock } from '../../../ports/clock.js';
import type { ObjectStore } from '../../../ports/object-store.js';
import type { QueryEngine, StatementContext, StatementResult } from '../../../ports/query-engine.js';
import { TerminalError } from '../../../shared/errors.js';
import { classifyAwsError } from '../aws-error.js';
import { type RetryOptions, realSleep, retryPolicy, type Sleep } from '../retry.js';
import {
  AthenaExecutions,
  type FinishedExecution,
  failureReason,
  isFinished,
  type QueryExecution,
} from './executions.js';
import { ManifestFiles } from './manifests.js';
import { batchInserts, partitionPositions, partitionsQuery } from './partition-batches.js';
import { readRawResults, readResultSet } from './results.js';
import { type ExecutionRecord, StatementLog, type TableLog, type Writer } from './statement-log.js';
import { type InsertShape, type WriteShape, writeShapeOf } from './write-target.js';

export interface AthenaPollOptions {
  /** First wait before asking how the query is doing; doubled after every answer, up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /**
   * How long `execute` waits before giving up with a TransientError. Keep it under the Lambda's timeout: the
   * redelivered event starts nothing new (same ClientRequestToken) and resumes waiting on the same query.
   */
  maxWaitMs?: number;
}

export interface AthenaQueryEngineOptions {
  workGroup: string;
  database: string;
  /** Defaults to Athena's own, AwsDataCatalog. */
  catalog?: string;
  /** Only for a workgroup that does not set its own query result location. */
  outputLocation?: string;
  /**
   * Where the engine records which executions wrote each run's files into each table (an S3 folder, e.g. of
   * the results bucket). A re-run reads it to replace those files (docs/decisions/0020).
   */
  statementLog: ObjectStore;
  /** Reads data manifests and deletes the files a replaced execution wrote. */
  s3: S3Client;
  /** s3://bucket[/prefix] locations a write may have written to: the warehouse. Nothing else is deleted. */
  writableLocations: readonly string[];
  poll?: AthenaPollOptions;
  /** Retries of StartQueryExecution refused with TooManyRequestsException (the concurrent-query quota). */
  startRetry?: Omit<RetryOptions, 'sleep'>;
  /** Injected so tests run without waiting; used for polling and for start retries. */
  sleep?: Sleep;
  clock?: Clock;
}

const StatementContextSchema = z.object({
  runId: RunIdSchema,
  file: z.string().min(1),
  statementIndex: z.number().int().min(0),
  attempt: z.string().min(1),
});

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The idempotency token of one step of one statement of one attempt. Athena answers a repeated
 * StartQueryExecution with the same token with the same QueryExecutionId instead of starting a second
 * query, so a redelivered event (same attempt) does not run a statement twice, while a deliberate re-run (a
 * new attempt) does. The SQL text is part of it because Athena refuses a known token with another query
 * string. Athena wants 32 to 128 characters; a SHA-256 in hex has 64
 * (https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html).
 */
export function clientRequestToken(context: StatementContext, sql: string, step = 'statement'): string {
  return sha256(
    JSON.stringify([context.runId, context.file, context.statementIndex, context.attempt, sha256(sql), step]),
  );
}

/** The statement's first keyword, past leading comments, blanks and parentheses. */
function leadingKeyword(sql: string): string {
  const rest = sql.replace(/^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*/, '');
  return /^[A-Za-z]+/.exec(rest)?.[0].toUpperCase() ?? '';
}

/** Statements that answer with rows, as the local engine classifies them (SELECT, WITH, VALUES, TABLE). */
const QUERY_KEYWORDS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE']);

/**
 * Only a query has rows worth reading: Athena also reports INSERT as DML, and DDL, CTAS and UNLOAD write
 * their output elsewhere.
 */
function returnsRows(execution: QueryExecution, sql: string): boolean {
  return execution.StatementType === 'DML' && QUERY_KEYWORDS.has(leadingKeyword(sql));
}

function describe(context: StatementContext): string {
  return `run ${context.runId}, ${context.file}, statement ${context.statementIndex}`;
}

const TOO_MANY_PARTITIONS = /HIVE_TOO_MANY_OPEN_PARTITIONS/;

const TableMetadataSchema = z.object({
  TableMetadata: z.object({
    Columns: z.array(z.object({ Name: z.string() })).default([]),
    PartitionKeys: z.array(z.object({ Name: z.string() })).default([]),
  }),
});

/** One finished step of a statement. */
interface Step {
  queryExecutionId: string;
  execution: FinishedExecution;
}

/** The writer record of the statement being executed, and the table log it belongs to. */
interface WriteSession {
  log: TableLog;
  writer: Writer;
  context: StatementContext;
  where: string;
}

/**
 * The QueryEngine port over Athena: one statement per query, in a configured workgroup and database.
 * Statements that write a table (INSERT INTO, CTAS) are made re-runnable: see #write.
 */
export class AthenaQueryEngine implements QueryEngine {
  readonly #client: AthenaClient;
  readonly #options: AthenaQueryEngineOptions;
  readonly #executions: AthenaExecutions;
  readonly #log: StatementLog;
  readonly #manifests: ManifestFiles;

  constructor(client: AthenaClient, options: AthenaQueryEngineOptions) {
    this.#client = client;
    this.#options = options;
    const sleep = options.sleep ?? realSleep;
    this.#executions = new AthenaExecutions(client, {
      poll: {
        initialDelayMs: options.poll?.initialDelayMs ?? 500,
        maxDelayMs: options.poll?.maxDelayMs ?? 5_000,
        maxWaitMs: options.poll?.maxWaitMs ?? 600_000,
      },
      startRetry: retryPolicy({
        maxAttempts: 5,
        baseDelayMs: 1_000,
        maxDelayMs: 20_000,
        ...options.startRetry,
        sleep,
      }),
      sleep,
      clock: options.clock ?? systemClock,
    });
    this.#log = new StatementLog(options.statementLog);
    this.#manifests = new ManifestFiles(options.s3, options.writableLocations);
  }

  async execute(sql: string, rawContext: StatementContext): Promise<StatementResult> {
    const parsed = StatementContextSchema.safeParse(rawContext);
    if (!parsed.success) {
      throw new TerminalError(`invalid statement context: ${z.prettifyError(parsed.error)}`);
    }
    const context = parsed.data;
    const shape = writeShapeOf(sql);
    return shape ? this.#write(sql, context, shape) : this.#query(sql, context);
  }

  /** A statement that writes no table: DDL, views, queries. Its token alone makes a redelivery harmless. */
  async #query(sql: string, context: StatementContext): Promise<StatementResult> {
    const where = describe(context);
    const queryExecutionId = await this.#start(sql, clientRequestToken(context, sql), where);
    const execution = await this.#executions.waitUntilDone(queryExecutionId, where);
    if (execution.Status.State !== 'SUCCEEDED') throw this.#failure(queryExecutionId, execution, where);
    const outcome = outcomeOf([{ queryExecutionId, execution }]);
    if (!returnsRows(execution, sql)) return outcome;
    return { ...outcome, result: await readResultSet(this.#client, queryExecutionId, where) };
  }

  /**
   * A statement that writes files into a table. The run's earlier files in that table are replaced, never
   * added to (docs/decisions/0020):
   * - the table log says which executions of this run wrote into the table, and for which attempt;
   * - the same statement of the same attempt (a redelivery) reuses its executions: nothing runs twice;
   * - otherwise (a new attempt, or the statement's text changed) the earlier executions are retired first:
   *   awaited if still running, then the files their data manifests list are deleted. Statements of the same
   *   attempt (the CTAS and the INSERT of one file) are siblings and are kept;
   * - a write that FAILED or was CANCELLED has its partial files deleted before the error is raised;
   * - an INSERT refused for writing over 100 partitions is run again as a series of INSERTs of up to 100.
   */
  async #write(sql: string, context: StatementContext, shape: WriteShape): Promise<StatementResult> {
    const where = describe(context);
    const table = `${shape.database ?? this.#options.database}.${shape.table}`;
    const log = await this.#log.read(context.runId, table);
    const sqlSha256 = sha256(sql);
    const sameStatement = (writer: Writer) =>
      writer.file === context.file && writer.statementIndex === context.statementIndex;
    let writer = log.writers.find(
      (w) => sameStatement(w) && w.attempt === context.attempt && w.sqlSha256 === sqlSha256,
    );
    if (writer === undefined) {
      const stale = log.writers.filter((w) => w.attempt !== context.attempt || sameStatement(w));
      await this.#retire(stale, `${where}: replacing run ${context.runId}'s earlier files in ${table}`);
      writer = {
        file: context.file,
        statementIndex: context.statementIndex,
        attempt: context.attempt,
        sqlSha256,
        executions: [],
      };
      log.writers = [...log.writers.filter((w) => !stale.includes(w)), writer];
      await this.#log.write(log);
    }
    const session: WriteSession = { log, writer, context, where };
    const first = await this.#step(session, 'statement', sql);
    if (first.execution.Status.State === 'SUCCEEDED') return outcomeOf([first]);
    await this.#deleteWrittenFiles(first.queryExecutionId, first.execution, where);
    if (shape.kind === 'insert' && TOO_MANY_PARTITIONS.test(failureReason(first.execution))) {
      return this.#writeInBatches(session, shape, first);
    }
    throw this.#failure(first.queryExecutionId, first.execution, where);
  }

  /** One step of a write: the execution this attempt already started for it, or a new one, awaited. */
  async #step(session: WriteSession, step: string, sql: string): Promise<Step> {
    const token = clientRequestToken(session.context, sql, step);
    let record: ExecutionRecord | undefined = session.writer.executions.find(
      (e) => e.step === step && e.token === token,
    );
    if (record === undefined) {
      const queryExecutionId = await this.#start(sql, token, session.where);
      record = { step, token, queryExecutionId };
      session.writer.executions.push(record);
      await this.#log.write(session.log);
    }
    const execution = await this.#executions.waitUntilDone(record.queryExecutionId, session.where);
    const manifest = execution.Statistics?.DataManifestLocation;
    if (record.manifest === undefined && manifest !== undefined) {
      record.manifest = manifest;
      await this.#log.write(session.log);
    }
    return { queryExecutionId: record.queryExecutionId, execution };
  }

  /**
   * Runs an INSERT that would write more than 100 partitions as several: asks which partitions its query
   * produces, then inserts them in batches of up to 100 (athena-partition-batches.ts).
   */
  async #writeInBatches(session: WriteSession, insert: InsertShape, first: Step): Promise<StatementResult> {
    const { where } = session;
    const database = insert.database ?? this.#options.database;
    const metadata = await this.#tableMetadata(database, insert.table, where);
    const partitionKeys = metadata.PartitionKeys.map((c) => c.Name.toLowerCase());
    // Glue lists partition columns apart from the others; a table's columns are both, partitions last.
    const tableColumns = [...metadata.Columns.map((c) => c.Name.toLowerCase()), ...partitionKeys];
    const { targets, positions } = partitionPositions(insert, tableColumns, partitionKeys);
    if (positions.length === 0) throw this.#failure(first.queryExecutionId, first.execution, where);
    const planning = await this.#step(
      session,
      'partitions',
      partitionsQuery(insert, targets.length, positions),
    );
    if (planning.execution.Status.State !== 'SUCCEEDED') {
      throw this.#failure(planning.queryExecutionId, planning.execution, where);
    }
    const partitions = await readRawResults(this.#client, planning.queryExecutionId, where);
    const steps: Step[] = [first, planning];
    for (const [index, batch] of batchInserts(insert, targets.length, positions, partitions).entries()) {
      const step = await this.#step(session, `batch-${index}`, batch);
      steps.push(step);
      if (step.execution.Status.State !== 'SUCCEEDED') {
        await this.#deleteWrittenFiles(step.queryExecutionId, step.execution, where);
        throw this.#failure(step.queryExecutionId, step.execution, `${where}, batch ${index}`);
      }
    }
    return outcomeOf(steps);
  }

  async #tableMetadata(database: string, table: string, where: string) {
    let raw: unknown;
    try {
      raw = await this.#client.send(
        new GetTableMetadataCommand({
          CatalogName: this.#options.catalog ?? 'AwsDataCatalog',
          DatabaseName: database,
          TableName: table,
        }),
      );
    } catch (error) {
      throw classifyAwsError(error, `Athena GetTableMetadata ${database}.${table} (${where})`);
    }
    const parsed = TableMetadataSchema.safeParse(raw);
    if (!parsed.success) {
      throw new TerminalError(
        `Athena GetTableMetadata ${database}.${table} (${where}): unexpected response`,
        {
          cause: parsed.error,
        },
      );
    }
    return parsed.data.TableMetadata;
  }

  /** Waits for the writers' executions to finish, then deletes every file they wrote. */
  async #retire(writers: readonly Writer[], where: string): Promise<void> {
    for (const record of writers.flatMap((writer) => writer.executions)) {
      let manifest = record.manifest;
      if (manifest === undefined) {
        const execution = await this.#finished(record.queryExecutionId, where);
        manifest = execution.Statistics?.DataManifestLocation;
      }
      if (manifest !== undefined) {
        await this.#manifests.delete(await this.#manifests.filesOf(manifest, where), where);
      }
    }
  }

  /** The execution once it is finished; one that Athena no longer knows cannot say what it wrote. */
  async #finished(queryExecutionId: string, where: string): Promise<FinishedExecution> {
    let execution: QueryExecution | undefined;
    try {
      execution = await this.#executions.describe(queryExecutionId, where);
    } catch (error) {
      // Athena keeps executions for 45 days; after that GetQueryExecution refuses the id (a terminal 400).
      if (error instanceof TerminalError) {
        throw new TerminalError(
          `${where}: Athena no longer knows execution ${queryExecutionId}, so the files it wrote cannot be ` +
            'found; delete them by hand (its data manifest is in the workgroup result location)',
          { cause: error },
        );
      }
      throw error;
    }
    if (execution !== undefined && isFinished(execution)) return execution;
    return this.#executions.waitUntilDone(queryExecutionId, where);
  }

  /** A failed or cancelled write may have left files behind; its manifest lists them. */
  async #deleteWrittenFiles(
    queryExecutionId: string,
    execution: FinishedExecution,
    where: string,
  ): Promise<void> {
    const manifest = execution.Statistics?.DataManifestLocation;
    if (manifest === undefined) return;
    const files = await this.#manifests.filesOf(manifest, `${where}, cleaning up after ${queryExecutionId}`);
    await this.#manifests.delete(files, where);
  }

  #start(sql: string, token: string, where: string): Promise<string> {
    const { workGroup, database, catalog, outputLocation } = this.#options;
    return this.#executions.start(
      {
        sql,
        token,
        workGroup,
        database,
        ...(catalog === undefined ? {} : { catalog }),
        ...(outputLocation === undefined ? {} : { outputLocation }),
      },
      where,
    );
  }

  /**
   * A failed query is terminal even when Athena calls its error retryable: a redelivery carries the same
   * ClientRequestToken, so Athena would answer with this same failed execution. A deliberate re-run (a new
   * attempt) runs it again.
   */
  #failure(queryExecutionId: string, execution: FinishedExecution, where: string): TerminalError {
    const hint =
      execution.Status.AthenaError?.Retryable === true ? ' (Athena marks the error retryable)' : '';
    return new TerminalError(
      `Athena query ${queryExecutionId} (${where}) ${execution.Status.State}: ${failureReason(execution)}${hint}`,
    );
  }
}

/** The statement's figures over all its steps; the last step's execution names it. */
function outcomeOf(steps: readonly Step[]): StatementResult {
  const last = steps.at(-1);
  const ids = steps.map((step) => step.queryExecutionId);
  const statistics = steps.map((step) => step.execution.Statistics);
  return {
    queryExecutionId: last?.queryExecutionId ?? '',
    ...(steps.length > 1 ? { queryExecutionIds: ids } : {}),
    dataScannedBytes: statistics.reduce((sum, s) => sum + (s?.DataScannedInBytes ?? 0), 0),
    durationMs: statistics.reduce(
      (sum, s) => sum + (s?.TotalExecutionTimeInMillis ?? s?.EngineExecutionTimeInMillis ?? 0),
      0,
    ),
  };
}
