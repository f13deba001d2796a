import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  allDetailTypes,
  type DatasetTotals,
  type DateWindow,
  DetailReferenceSchema,
  DetailType,
  type EventBridgeEnvelope,
  isDetailReference,
  parseFleetEvent,
  type UnknownVehicles,
} from '../events/index.js';
import { FolderSqlSource } from '../services/adapters/local/folder-sql-source.js';
import { SqliteDeadLetters } from '../services/adapters/local/sqlite/sqlite-dead-letters.js';
import { systemClock } from '../services/ports/clock.js';
import { downloadTaskOf, pageStoredSince } from '../services/ports/dead-letters.js';
import type { FleetSource } from '../services/ports/fleet-source.js';
import type { JsonValue, QueryEngine } from '../services/ports/query-engine.js';
import type { SqlSource } from '../services/ports/sql-source.js';
import { ReportSchema } from '../services/report/write-report.js';
import { systemErrorCode } from '../services/shared/errors.js';
import { rawRunPrefix, reportKey } from '../services/shared/lake-keys.js';
import { runIdFor, scheduledTimeForDay } from '../services/shared/run-identity.js';
import { DATASETS } from '../services/topology.js';
import { progressLine } from './progress.js';
import { reportPageOf } from './report-location.js';
import { LocalRuntime, type LocalRuntimeOptions } from './runtime.js';

export const BUNDLED_QUERIES = fileURLToPath(new URL('../queries/', import.meta.url));

export interface LocalRunOptions {
  /** The UTC day whose data is pulled; the schedule fires at 01:00 UTC the day after. */
  date: string;
  /** When the schedule fires instead (e.g. 01:00 the next day in the source's time zone); the source's window for it is run. */
  scheduledTime?: Date;
  stateDir: string;
  source: FleetSource;
  engine: QueryEngine;
  queriesDir?: string;
  /** Where the SQL files come from, e.g. a GitHub folder; defaults to the folder `queriesDir` (queries/). */
  sqlSource?: SqlSource;
  pageSize?: number;
  database?: string;
  onProgress?: (line: string) => void;
  /** Passed to the runtime: wraps its ports (the fault suite injects failures this way). */
  decoratePorts?: LocalRuntimeOptions['decoratePorts'];
  /** Passed to the runtime: consumers besides the topology's (the fault suite adds one that always fails). */
  consumers?: LocalRuntimeOptions['consumers'];
}

export interface RunSummary {
  runId: string;
  status: 'succeeded' | 'failed';
  window: DateWindow;
  datasets: Record<string, DatasetTotals>;
  /**
   * Per dataset, valid rows the API sent that were created outside the window and left out (PageDownloaded's
   * outsideWindow, once per page). Pages stored by an earlier attempt and announced again do not count.
   */
  outsideWindow: Record<string, number>;
  /** Per `dataset.field`, rows whose API field no column reads (PageDownloaded's unmappedFields): schema drift. */
  unmappedFields: Record<string, number>;
  /** Readings dropped by the sensor join for an unknown vehicle (EtlDone's unknownVehicles), when counted. */
  unknownVehicles?: UnknownVehicles;
  lake: { raw: string; warehouse: string };
  /** The report consumer's HTML page for the run. */
  report: string;
  results: Record<string, { columns: string[]; rows: Record<string, JsonValue>[] }>;
  /**
   * What the answers cover: the queries read the whole warehouse, every night fetched into this state folder so
   * far (run ids in order), not this night alone.
   */
  coverage: { nights: number; firstRun: string; lastRun: string };
  failures: string[];
  durationMs: number;
}

/**
 * `etl run` without the printing: fires the nightly schedule for `date` on a local runtime, waits until the
 * choreography settles, and reads the outcome from the bus (EtlDone or EtlFailed) and the report.
 */
export async function runPipelineLocally(options: LocalRunOptions): Promise<RunSummary> {
  const started = performance.now();
  const scheduledTime = options.scheduledTime ?? scheduledTimeForDay(options.date);
  const window = options.source.windowFor(scheduledTime);
  const runId = runIdFor(window);
  const runtime = new LocalRuntime({
    stateDir: options.stateDir,
    ports: {
      source: options.source,
      engine: options.engine,
      sqlSource: options.sqlSource ?? new FolderSqlSource(options.queriesDir ?? BUNDLED_QUERIES),
      clock: systemClock,
      datasets: DATASETS,
      database: options.database ?? 'fleet_etl',
      pageSize: options.pageSize ?? 50_000,
    },
    ...(options.decoratePorts ? { decoratePorts: options.decoratePorts } : {}),
    ...(options.consumers ? { consumers: options.consumers } : {}),
  });
  const datasets: Record<string, DatasetTotals> = {};
  const failures: string[] = [];
  /** Per `dataset page`: a page announced twice (at-least-once delivery) counts once. */
  const outsideByPage = new Map<string, { dataset: string; rows: number }>();
  const unmappedByPage = new Map<string, { dataset: string; fields: Record<string, number> }>();
  let done = false;
  let unknownVehicles: UnknownVehicles | undefined;
  runtime.bus.onEvent((raw: EventBridgeEnvelope) => {
    const line = progressLine(raw);
    if (line) options.onProgress?.(line);
    if (isDetailReference(raw.detail)) {
      // An event over 256 KB (decision 60): the reference carries the run id, which is all this needs of it.
      const reference = DetailReferenceSchema.parse(raw.detail);
      if (reference.runId === runId && raw['detail-type'] === DetailType.EtlDone) done = true;
      return;
    }
    const event = parseFleetEvent(raw, allDetailTypes);
    if (event.detail.runId !== runId) return;
    if (event['detail-type'] === DetailType.DownloadsDrained) Object.assign(datasets, event.detail.datasets);
    if (event['detail-type'] === DetailType.PageDownloaded && event.detail.outsideWindow !== undefined) {
      const { dataset, page, outsideWindow } = event.detail;
      outsideByPage.set(`${dataset} ${page}`, { dataset, rows: outsideWindow });
    }
    if (event['detail-type'] === DetailType.PageDownloaded && event.detail.unmappedFields !== undefined) {
      const { dataset, page, unmappedFields } = event.detail;
      unmappedByPage.set(`${dataset} ${page}`, { dataset, fields: unmappedFields });
    }
    if (event['detail-type'] === DetailType.EtlDone) {
      done = true;
      unknownVehicles = event.detail.unknownVehicles;
    }
    if (event['detail-type'] === DetailType.EtlFailed)
      failures.push(`${event.detail.stage}: ${event.detail.reason}`);
  });
  try {
    await prepareAttempt(runtime, runId, options.onProgress, options.pageSize);
    runtime.fireSchedule(scheduledTime);
    await runtime.settled();
    await removeResolvedDeadLetters(runtime, runId, options.onProgress);
  } finally {
    await runtime.close();
  }
  for (const letter of runtime.deadLetters) {
    failures.push(`${letter.service}: dead letter: ${letter.reason}`);
  }
  const results: RunSummary['results'] = {};
  if (done) {
    const body = await runtime.ports.resultsStore.get(reportKey(runId));
    if (body === undefined) {
      failures.push(`report: no report at ${reportKey(runId)}`);
    } else {
      Object.assign(results, ReportSchema.parse(JSON.parse(new TextDecoder().decode(body))).results);
    }
  } else if (failures.length === 0) {
    failures.push('the run settled without EtlDone; see the service logs');
  }
  const coverage = await nightsInLake(runtime.layout.raw, runId);
  return {
    runId,
    status: done && failures.length === 0 ? 'succeeded' : 'failed',
    window,
    datasets,
    outsideWindow: sumByDataset(outsideByPage.values()),
    unmappedFields: sumByField(unmappedByPage.values()),
    ...(unknownVehicles === undefined ? {} : { unknownVehicles }),
    lake: { raw: runtime.layout.raw, warehouse: runtime.layout.warehouse },
    report: reportPageOf(options.stateDir, runId),
    results,
    coverage,
    failures,
    durationMs: performance.now() - started,
  };
}

/**
 * The runs whose readings the raw lake holds (its `sensors/run=<id>/` folders), this one included, first and last
 * by id: one directory read, not a listing of every page of every night.
 */
async function nightsInLake(rawRoot: string, runId: string): Promise<RunSummary['coverage']> {
  const runs = new Set([runId]);
  let folders: string[] = [];
  try {
    folders = await readdir(path.join(rawRoot, 'sensors'));
  } catch (error) {
    if (systemErrorCode(error) !== 'ENOENT') throw error;
  }
  for (const folder of folders) if (folder.startsWith('run=')) runs.add(folder.slice('run='.length));
  const sorted = [...runs].sort();
  return { nights: sorted.length, firstRun: sorted[0] ?? runId, lastRun: sorted.at(-1) ?? runId };
}

/**
 * `etl run` of a window that already finished is a deliberate re-run: the run's ledger starts afresh and every
 * page is fetched and written again over the same keys. Of a window that did not finish (interrupted, or a
 * page gave up), it is a resume: stored pages are kept and not fetched again, tasks left in the queue are
 * received again, and a drained claim whose query stage never finished is given back so that the queries run.
 */
async function prepareAttempt(
  runtime: LocalRuntime,
  runId: string,
  onProgress?: (line: string) => void,
  pageSize?: number,
) {
  const { ledger } = runtime.ports;
  const progress = await ledger.progress(runId);
  if (progress.finished) {
    // The downloader announces pages it finds in the lake instead of fetching them (resume), so a deliberate
    // re-run first removes the run's raw pages: they are pulled from the API again, as the user asked.
    const { rawStore } = runtime.ports;
    const keys = (
      await Promise.all(
        DATASETS.flatMap((dataset) => [
          rawStore.list(rawRunPrefix(dataset, runId)),
          rawStore.list(`rejected/${rawRunPrefix(dataset, runId)}`),
        ]),
      )
    ).flat();
    await rawStore.delete(keys);
    await ledger.reset(runId);
    onProgress?.(`run ${runId} finished before: running it again from the start`);
    return;
  }
  const stored = Object.values(progress.datasets).reduce((sum, d) => sum + d.storedPages, 0);
  const queued = runtime.tasks.size;
  if (stored > 0 || queued > 0 || progress.drained) {
    onProgress?.(`resuming run ${runId}: ${stored} page(s) already stored, ${queued} task(s) still queued`);
    // The planner keeps a recorded plan's page size (plan-pages.ts); say so when another one was asked.
    for (const [dataset, recorded] of Object.entries(progress.datasets)) {
      if (pageSize !== undefined && recorded.pageSize !== undefined && recorded.pageSize !== pageSize) {
        onProgress?.(
          `  ${dataset}: keeping the plan this night made, pages of ${recorded.pageSize.toLocaleString('en-US')} rows ` +
            `(--page-size ${pageSize.toLocaleString('en-US')} applies to nights not planned yet)`,
        );
      }
    }
  }
  if (progress.drained) await ledger.releaseClaim(runId);
}

/**
 * A page that gave up in an earlier attempt and was stored by this one leaves its task in the dead-letter queue:
 * `etl dlq` would list a failure that is over and offer to redrive a page already stored. Once the attempt has
 * settled, the run's dead letters whose page the ledger records as stored are removed, each with a line saying so
 * (the earlier attempt's EtlFailed stays in the event archive). In AWS the same letters stay in SQS until
 * `etl dlq redrive --ledger-table` removes them or their retention ends (README, Reliability).
 */
async function removeResolvedDeadLetters(
  runtime: LocalRuntime,
  runId: string,
  onProgress?: (line: string) => void,
): Promise<void> {
  const deadLetters = new SqliteDeadLetters(runtime.tasks, runtime.layout.state);
  const resolved = new Set<string>();
  for (const message of await deadLetters.list(Number.MAX_SAFE_INTEGER)) {
    const task = downloadTaskOf(message);
    if (task?.runId !== runId || !(await pageStoredSince(message, runtime.ports.ledger))) continue;
    resolved.add(message.messageId);
    onProgress?.(`removed the dead letter of ${task.dataset} page ${task.page}: the page is stored now`);
  }
  if (resolved.size > 0) await deadLetters.discard((message) => resolved.has(message.messageId));
}

export function relativeToCwd(location: string): string {
  const relative = path.relative(process.cwd(), location);
  return relative.startsWith('..') ? location : relative || '.';
}

function sumByDataset(pages: Iterable<{ dataset: string; rows: number }>): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const { dataset, rows } of pages) sums[dataset] = (sums[dataset] ?? 0) + rows;
  return sums;
}

function sumByField(
  pages: Iterable<{ dataset: string; fields: Record<string, number> }>,
): Record<string, number> {
  const sums = new Map<string, number>();
  for (const { dataset, fields } of pages) {
    for (const [field, rows] of Object.entries(fields)) {
      const key = `${dataset}.${field}`;
      sums.set(key, (sums.get(key) ?? 0) + rows);
    }
  }
  return Object.fromEntries(sums);
}
