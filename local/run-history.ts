import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import {
  allDetailTypes,
  type Dataset,
  type DateWindow,
  DetailType,
  isDetailReference,
  parseFleetEvent,
} from '../events/index.js';
import { SqliteRunLedger } from '../services/adapters/local/sqlite/sqlite-run-ledger.js';
import { openStateDatabase } from '../services/adapters/local/sqlite/state-database.js';
import type { RunProgress } from '../services/ports/run-ledger.js';
import { systemErrorCode } from '../services/shared/errors.js';
import { rawRunPrefix } from '../services/shared/lake-keys.js';
import { DATASETS } from '../services/topology.js';
import { type ArchivedEvent, readArchive, runIdOf } from './archive.js';
import { reportPageOf } from './report-location.js';
import { stateLayout } from './runtime.js';

export type RunStatus = 'succeeded' | 'failed' | 'unfinished';

export interface DatasetHistory {
  /** Pages the plan counted; null when no plan was recorded (the planner failed, or never ran). */
  plannedPages: number | null;
  storedPages: number;
  /** Rows stored in the raw lake. */
  rows: number;
  /**
   * Rows that broke the row schema, kept under the raw lake's rejected/ folder (decision 30); null when read from
   * the DynamoDB ledger alone, which does not count them.
   */
  quarantinedRows: number | null;
  /**
   * Valid rows the API sent that were created outside the window, left out (PageDownloaded.outsideWindow); null
   * when read from the DynamoDB ledger alone (only events carry them).
   */
  outsideWindowRows: number | null;
}

/** One night of a state folder, as `etl runs` shows it. */
export interface RunHistory {
  runId: string;
  status: RunStatus;
  window: DateWindow | null;
  datasets: Partial<Record<Dataset, DatasetHistory>>;
  /** Readings dropped by the sensor join for a vehicle not in vehicles_data (EtlDone.unknownVehicles), if counted. */
  unknownVehicleReadings: number | null;
  /**
   * Times `etl run` (or a replay of the schedule) started the night's pipeline: each planned it afresh. Null, as
   * are the times and the report, when read from the DynamoDB ledger alone (local/ledger-run-history.ts).
   */
  attempts: number | null;
  /** The last attempt's first event (its plan) and its last one (EtlDone, EtlFailed, or where it stopped). */
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  /** Why the night failed: the stages' EtlFailed reasons of the last attempt, else the ledger's failed pages. */
  failures: string[];
  /** The report page, when it was written. */
  report: string | null;
}

export interface StateFolderHistory {
  stateDir: string;
  runs: RunHistory[];
  /** The archive's last line was cut short by a crash while appending: it was skipped. */
  truncatedArchiveLine?: number;
}

/**
 * Every night a state folder knows of, oldest first. The run ledger (state.sqlite) is the source of what the
 * pipeline itself trusts: the plan, the distinct pages stored and their rows, the pages that gave up, whether
 * EtlDone was seen. The event archive adds what only events carry: when each attempt ran, why a stage failed,
 * rows left out of the window and readings dropped by the join. Quarantined rows and the report are counted where
 * they are written (docs/decisions/0079-etl-runs-from-ledger-and-archive.md).
 */
export async function readRunHistory(stateDir: string): Promise<StateFolderHistory> {
  const layout = stateLayout(stateDir);
  const { events, truncatedLastLine } = readArchive(layout.archive);
  const eventsByRun = new Map<string, ArchivedEvent[]>();
  for (const event of events) {
    const runId = runIdOf(event);
    if (runId === undefined) continue;
    eventsByRun.set(runId, [...(eventsByRun.get(runId) ?? []), event]);
  }
  const progressByRun = await readLedger(layout.state);
  const runIds = [...new Set([...progressByRun.keys(), ...eventsByRun.keys()])].sort();
  const runs = runIds.map((runId) =>
    historyOf(runId, progressByRun.get(runId), eventsByRun.get(runId) ?? [], stateDir, layout.raw),
  );
  return {
    stateDir: layout.root,
    runs,
    ...(truncatedLastLine === undefined ? {} : { truncatedArchiveLine: truncatedLastLine }),
  };
}

/** The ledger's view of every run; none when the folder has no state file (nothing is created to read it). */
async function readLedger(file: string): Promise<Map<string, RunProgress>> {
  const progress = new Map<string, RunProgress>();
  if (!existsSync(file)) return progress;
  const db = openStateDatabase(file);
  try {
    const ledger = new SqliteRunLedger(db);
    for (const runId of ledger.runIds()) progress.set(runId, await ledger.progress(runId));
  } finally {
    db.close();
  }
  return progress;
}

interface AttemptFacts {
  attempts: number;
  startedAt: string | null;
  endedAt: string | null;
  done: boolean;
  failures: string[];
  window: DateWindow | null;
  unknownVehicleReadings: number | null;
  /** Per `dataset page`, the latest count of rows left out of the window. */
  outsideWindow: Map<string, { dataset: Dataset; rows: number }>;
}

/**
 * The dataset a planner's event plans (PagesPlanned) or failed to plan (EtlFailed from the planner); undefined for
 * any other event. Each attempt at a night invokes the planner once per dataset.
 */
function plannedDataset(event: ArchivedEvent): string | undefined {
  const detail = z
    .looseObject({ dataset: z.string().optional(), stage: z.string().optional() })
    .safeParse(event.detail);
  if (!detail.success) return undefined;
  if (event['detail-type'] === DetailType.PagesPlanned) return detail.data.dataset;
  if (event['detail-type'] === DetailType.EtlFailed && detail.data.stage === 'planner') {
    return detail.data.dataset ?? 'unnamed';
  }
  return undefined;
}

/**
 * What the archive says of a run. Each `etl run` of the night (first run, resume or re-run) plans every dataset
 * again, so an attempt starts where a dataset is planned that the current attempt has planned already.
 */
function archiveFacts(events: readonly ArchivedEvent[]): AttemptFacts {
  const facts: AttemptFacts = {
    attempts: 0,
    startedAt: null,
    endedAt: null,
    done: false,
    failures: [],
    window: null,
    unknownVehicleReadings: null,
    outsideWindow: new Map(),
  };
  let planned = new Set<string>();
  for (const event of events) {
    const dataset = plannedDataset(event);
    if (facts.attempts === 0 || (dataset !== undefined && planned.has(dataset))) {
      facts.attempts += 1;
      facts.startedAt = event.time;
      facts.done = false;
      facts.failures = [];
      planned = new Set();
    }
    if (dataset !== undefined) planned.add(dataset);
    facts.endedAt = event.time;
    if (isDetailReference(event.detail)) {
      // An EtlDone over 256 KB travels by reference (decision 60): it still says the run finished.
      if (event['detail-type'] === DetailType.EtlDone) facts.done = true;
      continue;
    }
    let parsed: ReturnType<typeof parseFleetEvent>;
    try {
      parsed = parseFleetEvent(event, allDetailTypes);
    } catch {
      // An event of an older schema version: its time still counts, its detail cannot be read today.
      continue;
    }
    switch (parsed['detail-type']) {
      case DetailType.PagesPlanned:
        facts.window = parsed.detail.window;
        break;
      case DetailType.PageDownloaded: {
        const { dataset, page, outsideWindow } = parsed.detail;
        if (outsideWindow !== undefined)
          facts.outsideWindow.set(`${dataset} ${page}`, { dataset, rows: outsideWindow });
        break;
      }
      case DetailType.EtlDone:
        facts.done = true;
        facts.window = parsed.detail.window;
        facts.unknownVehicleReadings = parsed.detail.unknownVehicles?.unknownVehicleReadings ?? null;
        break;
      case DetailType.EtlFailed: {
        const { stage, reason } = parsed.detail;
        const failure = `${stage}: ${reason}`;
        if (!facts.failures.includes(failure)) facts.failures.push(failure);
        break;
      }
      default:
        break;
    }
  }
  return facts;
}

function historyOf(
  runId: string,
  progress: RunProgress | undefined,
  events: readonly ArchivedEvent[],
  stateDir: string,
  rawRoot: string,
): RunHistory {
  const facts = archiveFacts(events);
  const ledgerFailures = (progress?.failures ?? []).map((f) => `${f.dataset} page ${f.page}: ${f.reason}`);
  const failures = facts.failures.length > 0 ? facts.failures : ledgerFailures;
  const finished = progress?.finished ?? facts.done;
  const status: RunStatus = failures.length > 0 ? 'failed' : finished ? 'succeeded' : 'unfinished';
  const datasets: RunHistory['datasets'] = {};
  for (const dataset of DATASETS) {
    const counted = progress?.datasets[dataset];
    const quarantinedRows = countLines(path.join(rawRoot, 'rejected', rawRunPrefix(dataset, runId)));
    const outsideWindowRows = [...facts.outsideWindow.values()]
      .filter((entry) => entry.dataset === dataset)
      .reduce((sum, entry) => sum + entry.rows, 0);
    if (counted === undefined && quarantinedRows === 0 && outsideWindowRows === 0) continue;
    datasets[dataset] = {
      plannedPages: counted?.totalPages ?? null,
      storedPages: counted?.storedPages ?? 0,
      rows: counted?.rows ?? 0,
      quarantinedRows,
      outsideWindowRows,
    };
  }
  const report = reportPageOf(stateDir, runId);
  return {
    runId,
    status,
    window: progress?.window ?? facts.window,
    datasets,
    unknownVehicleReadings: facts.unknownVehicleReadings,
    attempts: facts.attempts,
    startedAt: facts.startedAt,
    endedAt: facts.endedAt,
    durationMs:
      facts.startedAt === null || facts.endedAt === null
        ? null
        : Date.parse(facts.endedAt) - Date.parse(facts.startedAt),
    failures,
    report: existsSync(report) ? report : null,
  };
}

/** Rows in the NDJSON files of a folder (one row a line); 0 when there is no such folder. */
function countLines(folder: string): number {
  let files: string[];
  try {
    files = readdirSync(folder);
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return 0;
    throw error;
  }
  let lines = 0;
  for (const file of files) {
    if (!file.endsWith('.ndjson')) continue;
    const text = readFileSync(path.join(folder, file), 'utf8');
    for (const line of text.split('\n')) if (line.trim() !== '') lines += 1;
  }
  return lines;
}
