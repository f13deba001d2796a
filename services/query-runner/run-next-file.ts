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
import type { SqlFile, SqlSource } from '../ports/sql-source.js';
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

export type QueryRunnerEvent = FleetEvent<
  typeof DetailType.DownloadsDrained | typeof DetailType.SqlFileExecuted
>;

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
 * SqlFileExecuted of this run starts the next file, until the last one, which is followed by EtlDone.
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
  const files = inRunOrder(await deps.sqlSource.list());
  if (event['detail-type'] === DetailType.SqlFileExecuted && event.detail.index + 1 >= event.detail.total) {
    const { runSoFar } = event.detail;
    await publishEvent(deps.publisher, DetailType.EtlDone, {
      runId,
      window,
      files: files.map((f) => f.name),
      results: runSoFar.results,
      ...(runSoFar.datasets === undefined ? {} : { datasets: runSoFar.datasets }),
      ...(runSoFar.unknownVehicles === undefined ? {} : { unknownVehicles: runSoFar.unknownVehicles }),
      summary: {
        queryExecutionIds: runSoFar.queryExecutionIds,
        dataScannedBytes: runSoFar.dataScannedBytes,
        durationMs: runSoFar.durationMs,
      },
    });
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
    const { result, ...executed } = await executeFile(file, { runId, window, attempt: chain }, deps);
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
      executed.resultKey && !isRunCount && !check
        ? { ...runSoFar.results, [queryName]: executed.resultKey }
        : runSoFar.results;
    await publishEvent(deps.publisher, DetailType.SqlFileExecuted, {
      runId,
      window,
      file: file.name,
      index,
      total: files.length,
      attempt: chain,
      ...executed,
      runSoFar: {
        ...(unknownVehicles === undefined ? {} : { unknownVehicles }),
        results,
        queryExecutionIds: [...runSoFar.queryExecutionIds, ...executed.queryExecutionIds],
        dataScannedBytes: runSoFar.dataScannedBytes + executed.dataScannedBytes,
        durationMs: runSoFar.durationMs + executed.durationMs,
        ...(runSoFar.datasets === undefined ? {} : { datasets: runSoFar.datasets }),
      },
    });
    await steps.record(runId, chain, step, DetailType.SqlFileExecuted);
    deps.logger.info('sql file executed', { runId, file: file.name, index, total: files.length });
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
