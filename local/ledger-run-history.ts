import type { RunLedger, RunProgress } from '../services/ports/run-ledger.js';
import { DATASETS } from '../services/topology.js';
import type { RunHistory, RunStatus } from './run-history.js';

/** What `etl runs` reads of a DynamoDB run ledger: its runs and each one's progress. */
export interface ListableRunLedger extends Pick<RunLedger, 'progress'> {
  runIds(): Promise<string[]>;
}

export interface LedgerHistory {
  ledgerTable: string;
  runs: RunHistory[];
}

/**
 * The nights a stage's run ledger (DynamoDB) knows, oldest first, in the shape `etl runs` prints for a state folder.
 * The ledger holds the window, the plans, the distinct pages stored and their rows, the pages that gave up and
 * whether EtlDone was seen; what only the local event archive and lake hold (attempts, times, stage failures,
 * quarantined and out-of-window rows, dropped readings, the report page) is null.
 */
export async function readLedgerHistory(
  ledger: ListableRunLedger,
  ledgerTable: string,
  onlyRun?: string,
): Promise<LedgerHistory> {
  // One run asked for is read directly: no Scan of the table.
  const runIds = onlyRun === undefined ? await ledger.runIds() : [onlyRun];
  const runs: RunHistory[] = [];
  for (const runId of runIds) {
    const progress = await ledger.progress(runId);
    if (onlyRun !== undefined && isEmpty(progress)) continue;
    runs.push(historyFromLedger(runId, progress));
  }
  return { ledgerTable, runs };
}

function isEmpty(progress: RunProgress): boolean {
  return (
    progress.window === undefined &&
    Object.keys(progress.datasets).length === 0 &&
    progress.failures.length === 0 &&
    !progress.drained &&
    !progress.finished
  );
}

/** The status rule of the local history (local/run-history.ts) with the ledger's failed pages as failures. */
function historyFromLedger(runId: string, progress: RunProgress): RunHistory {
  const failures = progress.failures.map((f) => `${f.dataset} page ${f.page}: ${f.reason}`);
  const status: RunStatus = failures.length > 0 ? 'failed' : progress.finished ? 'succeeded' : 'unfinished';
  const datasets: RunHistory['datasets'] = {};
  for (const dataset of DATASETS) {
    const counted = progress.datasets[dataset];
    if (counted === undefined) continue;
    datasets[dataset] = {
      plannedPages: counted.totalPages ?? null,
      storedPages: counted.storedPages,
      rows: counted.rows,
      quarantinedRows: null,
      outsideWindowRows: null,
    };
  }
  return {
    runId,
    status,
    window: progress.window ?? null,
    datasets,
    unknownVehicleReadings: null,
    attempts: null,
    startedAt: null,
    endedAt: null,
    durationMs: null,
    failures,
    report: null,
  };
}
