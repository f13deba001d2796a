import * as z from 'zod';
import {
  type DateWindow,
  DetailType,
  type EventPublisher,
  type FleetEvent,
  publishEvent,
  type SqlFileExecuted,
} from '../../events/index.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { QueryEngine, ResultSet, StatementResult } from '../ports/query-engine.js';
import { describeSqlVersion, type SqlFile, type SqlSource, type SqlVersion } from '../ports/sql-source.js';
import { describeError, isRetryable, TerminalError } from '../shared/errors.js';
import { resultKey } from '../shared/lake-keys.js';
import type { Logger } from '../shared/logger.js';
import { runDate } from '../shared/run-identity.js';
import { renderPlaceholders, SqlPlaceholderValuesSchema, splitStatements } from '../shared/sql-text.js';
import { ChainSteps, chainOf } from './chain-steps.js';
import { inRunOrder, queryNameOf } from './query-names.js';
import { failedCheck, isCheck } from './run-checks.js';
import { UNKNOWN_VEHICLES_QUERY, unknownVehiclesOf } from './run-counts.js';

export interface QueryRunnerDeps {
  sqlSource: SqlSource;
  engine: QueryEngine;
  publisher: EventPublisher;
  resultsStore: ObjectStore;
  /** Validated configuration: the Glue database and the lake's locations as the engine sees them. */
  database: string;
  rawLocation: string;
  warehouseLocation: string;
  logger: Logger;
}

/**
 * What the runner handles: DownloadsDrained, then its own SqlFileExecuted. Its rule (services/topology.ts) routes
 * exactly these; the compiler checks the two are one set (handler.ts).
 */
export type QueryRunnerDetailType = typeof DetailType.DownloadsDrained | typeof DetailType.SqlFileExecuted;
export type QueryRunnerEvent = FleetEvent<QueryRunnerDetailType>;

type RunSoFar = SqlFileExecuted['runSoFar'];

const nothingYet: RunSoFar = { results: {}, queryExecutionIds: [], dataScannedBytes: 0, durationMs: 0 };

export type QueryRunnerOutcome =
  | { kind: 'executed'; file: string; index: number }
  | { kind: 'done' }
  /** The step this event leads to was announced already (a redelivery): nothing ran, nothing was published. */
  | { kind: 'duplicate'; step: number }
  | { kind: 'failed'; file: string; reason: string };

/**
 * The seed's "call the next task" recursion as choreography: DownloadsDrained starts file 0, and each
 * SqlFileExecuted of this run starts the next file, until the last one, which is followed by EtlDone. The SQL is
 * pinned when the query stage starts (DownloadsDrained): the pin travels in every SqlFileExecuted, and each file is
 * read at it, so a change to the source during the run is never half seen.
 *
 * The files a DownloadsDrained starts are one chain: every step runs its Athena statements under the chain's id
 * (`attempt`), and a step already announced is not announced again, so a redelivered event neither reruns work
 * nor forks the chain (each fork would end in its own EtlDone).
 */
export async function runNextFile(
  event: QueryRunnerEvent,
  deps: QueryRunnerDeps,
): Promise<QueryRunnerOutcome> {
  const { runId, window } = event.detail;
  const chain = chainOf(event);
  const steps = new ChainSteps(deps.resultsStore);
  const step = event['detail-type'] === DetailType.SqlFileExecuted ? event.detail.index + 1 : 0;
  if (await steps.announced(runId, chain, step)) {
    deps.logger.info('step of the run announced already; a redelivery, nothing to do', {
      runId,
      chain,
      step,
    });
    return { kind: 'duplicate', step };
  }
  const executed = event['detail-type'] === DetailType.SqlFileExecuted ? event.detail : undefined;
  const lastFileRan = executed !== undefined && executed.index + 1 >= executed.total;
  // The files that ran travel with the run, so the end of it needs no listing (older events did not carry them).
  if (lastFileRan && executed.runSoFar.files !== undefined) {
    await publishDone(executed, executed.runSoFar.files, deps);
    await steps.record(runId, chain, step, DetailType.EtlDone);
    return { kind: 'done' };
  }
  let pinned: SqlFiles;
  try {
    pinned = await pinnedFiles(executed, deps);
  } catch (error) {
    if (isRetryable(error)) throw error;
    const reason = describeError(error).slice(0, 4_000);
    await publishEvent(deps.publisher, DetailType.EtlFailed, { runId, stage: 'query-runner', reason });
    return { kind: 'failed', file: '', reason };
  }
  const { version, files } = pinned;
  if (lastFileRan) {
    await publishDone(
      executed,
      files.map((f) => f.name),
      deps,
    );
    await steps.record(runId, chain, step, DetailType.EtlDone);
    return { kind: 'done' };
  }
  const index = step;
  // The download totals travel with the run from DownloadsDrained to EtlDone, for the report.
  const runSoFar =
    event['detail-type'] === DetailType.SqlFileExecuted
      ? event.detail.runSoFar
      : { ...nothingYet, datasets: event.detail.datasets };
  const file = files[index];
  if (file === undefined) {
    const reason =
      files.length === 0 ? 'the SQL source lists no .sql files' : `no SQL file at position ${index}`;
    await publishEvent(deps.publisher, DetailType.EtlFailed, { runId, stage: 'query-runner', reason });
    return { kind: 'failed', file: '', reason };
  }
  try {
    const { result, ...executedFile } = await executeFile(file, { runId, window, attempt: chain }, deps);
    const queryName = queryNameOf(file.name);
    const check = isCheck(queryName);
    if (check) {
      const failure = failedCheck(file.name, result);
      if (failure !== undefined) throw failure;
    }
    // A run count (run-counts.ts) travels in runSoFar to EtlDone; an answer is listed among the results.
    const isRunCount = queryName === UNKNOWN_VEHICLES_QUERY;
    const unknownVehicles = isRunCount ? unknownVehiclesOf(file.name, result) : runSoFar.unknownVehicles;
    if (unknownVehicles !== undefined && isRunCount && unknownVehicles.unknownVehicleReadings > 0) {
      deps.logger.warn('readings of vehicles not in vehicles_data were dropped by the join', {
        runId,
        ...unknownVehicles,
      });
    }
    const results =
      executedFile.resultKey && !isRunCount && !check
        ? { ...runSoFar.results, [queryName]: executedFile.resultKey }
        : runSoFar.results;
    await publishEvent(deps.publisher, DetailType.SqlFileExecuted, {
      runId,
      window,
      file: file.name,
      index,
      total: files.length,
      attempt: chain,
      ...executedFile,
      ...sqlVersionFields(version),
      runSoFar: {
        // Older events carry no file names: the files before this one are the pinned listing's.
        files: [...(runSoFar.files ?? files.slice(0, index).map((f) => f.name)), file.name],
        ...(unknownVehicles === undefined ? {} : { unknownVehicles }),
        results,
        queryExecutionIds: [...runSoFar.queryExecutionIds, ...executedFile.queryExecutionIds],
        dataScannedBytes: runSoFar.dataScannedBytes + executedFile.dataScannedBytes,
        durationMs: runSoFar.durationMs + executedFile.durationMs,
        ...(runSoFar.datasets === undefined ? {} : { datasets: runSoFar.datasets }),
      },
    });
    await steps.record(runId, chain, step, DetailType.SqlFileExecuted);
    deps.logger.info('sql file executed', {
      runId,
      file: file.name,
      index,
      total: files.length,
      sql: describeSqlVersion(version),
    });
    return { kind: 'executed', file: file.name, index };
  } catch (error) {
    if (isRetryable(error)) {
      throw error;
    }
    // EtlFailed carries at most 4,000 characters: a longer engine message would make the failure unpublishable.
    const reason = `${file.name}: ${describeError(error)}`.slice(0, 4_000);
    await publishEvent(deps.publisher, DetailType.EtlFailed, {
      runId,
      stage: 'query-runner',
      reason,
      file: file.name,
    });
    return { kind: 'failed', file: file.name, reason };
  }
}

interface SqlFiles {
  version: SqlVersion;
  files: SqlFile[];
}

/**
 * The run's SQL: pinned now when the query stage starts, or at the pin the previous file carried. A
 * SqlFileExecuted published before pins existed carries none: the rest of that run is pinned from here on.
 */
async function pinnedFiles(executed: SqlFileExecuted | undefined, deps: QueryRunnerDeps): Promise<SqlFiles> {
  const carried = executed === undefined ? undefined : sqlVersionOf(executed);
  if (executed !== undefined && carried === undefined) {
    deps.logger.warn('the previous SQL file carried no SQL version: pinning the source now', {
      runId: executed.runId,
      file: executed.file,
    });
  }
  const version = carried ?? (await deps.sqlSource.pin());
  if (executed === undefined) {
    deps.logger.info('sql pinned for the run', {
      source: deps.sqlSource.description,
      sql: describeSqlVersion(version),
    });
  }
  return { version, files: inRunOrder(await deps.sqlSource.list(version)) };
}

function sqlVersionOf(detail: { sqlCommit?: string; sqlSha256?: string }): SqlVersion | undefined {
  if (detail.sqlCommit !== undefined) return { commit: detail.sqlCommit };
  if (detail.sqlSha256 !== undefined) return { sha256: detail.sqlSha256 };
  return undefined;
}

function sqlVersionFields(version: SqlVersion | undefined): { sqlCommit?: string; sqlSha256?: string } {
  if (version === undefined) return {};
  return 'commit' in version ? { sqlCommit: version.commit } : { sqlSha256: version.sha256 };
}

/** The last file ran: EtlDone sums up the run, with the version of the SQL every file was read at. */
async function publishDone(
  last: SqlFileExecuted,
  files: readonly string[],
  deps: QueryRunnerDeps,
): Promise<void> {
  const { runId, window, runSoFar } = last;
  await publishEvent(deps.publisher, DetailType.EtlDone, {
    runId,
    window,
    files: [...files],
    results: runSoFar.results,
    ...(runSoFar.datasets === undefined ? {} : { datasets: runSoFar.datasets }),
    ...(runSoFar.unknownVehicles === undefined ? {} : { unknownVehicles: runSoFar.unknownVehicles }),
    ...sqlVersionFields(sqlVersionOf(last)),
    summary: {
      queryExecutionIds: runSoFar.queryExecutionIds,
      dataScannedBytes: runSoFar.dataScannedBytes,
      durationMs: runSoFar.durationMs,
    },
  });
}

interface ExecutedFile {
  statements: number;
  queryExecutionIds: string[];
  dataScannedBytes: number;
  durationMs: number;
  resultKey?: string;
  /** The last statement's result set, for the runner's own use (not published). */
  result?: ResultSet;
}

/** Runs a file's statements in order; the last statement's result set, if any, is the file's result. */
async function executeFile(
  { name, text }: SqlFile,
  { runId, window, attempt }: { runId: string; window: DateWindow; attempt: string },
  deps: QueryRunnerDeps,
): Promise<ExecutedFile> {
  const parsed = SqlPlaceholderValuesSchema.safeParse({
    database: deps.database,
    raw_location: deps.rawLocation,
    warehouse_location: deps.warehouseLocation,
    run_id: runId,
    run_date: runDate(window),
  });
  if (!parsed.success) {
    // Configuration, not a passing condition: retrying cannot help, and the run fails saying which value.
    // zod's messages name the placeholder and the rule, never the value.
    throw new TerminalError(`refusing to fill the SQL placeholders: ${z.prettifyError(parsed.error)}`);
  }
  const values = parsed.data;
  const statements = splitStatements(renderPlaceholders(text, values));
  const outcomes: StatementResult[] = [];
  for (const [statementIndex, sql] of statements.entries()) {
    outcomes.push(await deps.engine.execute(sql, { runId, file: name, statementIndex, attempt }));
  }
  const last = outcomes.at(-1);
  let key: string | undefined;
  if (last?.result) {
    key = resultKey(runId, queryNameOf(name));
    await deps.resultsStore.put(key, JSON.stringify(last.result), { contentType: 'application/json' });
  }
  return {
    statements: outcomes.length,
    queryExecutionIds: outcomes.flatMap((o) => o.queryExecutionIds ?? [o.queryExecutionId]),
    dataScannedBytes: outcomes.reduce((sum, o) => sum + o.dataScannedBytes, 0),
    durationMs: outcomes.reduce((sum, o) => sum + o.durationMs, 0),
    ...(key ? { resultKey: key } : {}),
    ...(last?.result ? { result: last.result } : {}),
  };
}
