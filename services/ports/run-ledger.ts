import type { Dataset, DatasetTotals, DateWindow } from '../../events/index.js';

export interface DatasetPlan {
  totalPages: number;
  window: DateWindow;
}

export interface DatasetProgress {
  /** Undefined until the dataset's plan is recorded: pages may arrive before their plan. */
  totalPages: number | undefined;
  storedPages: number;
  rows: number;
}

export interface RunProgress {
  /** The run's window, known once any plan of the run is recorded. */
  window: DateWindow | undefined;
  datasets: Partial<Record<Dataset, DatasetProgress>>;
}

/**
 * Counts distinct stored pages against the plan of each dataset of a run. Every method is idempotent:
 * recording the same plan or page twice changes nothing.
 */
export interface RunLedger {
  recordPlan(runId: string, dataset: Dataset, plan: DatasetPlan): Promise<void>;
  /** Returns false when this page was already recorded. */
  recordPage(runId: string, dataset: Dataset, page: number, rows: number): Promise<boolean>;
  progress(runId: string): Promise<RunProgress>;
  /**
   * A conditional write: resolves true for exactly one caller per run, however many race for it. The winner
   * publishes DownloadsDrained.
   */
  claimDrained(runId: string): Promise<boolean>;
  /**
   * Forgets everything recorded for the run, so that an explicit re-run of the window (not a redelivery) plans,
   * stores and announces it afresh. The lake and the warehouse are untouched: re-running rewrites the same keys.
   */
  reset(runId: string): Promise<void>;
}

export function totalsOf(progress: DatasetProgress): DatasetTotals {
  return { pages: progress.storedPages, rows: progress.rows };
}

/** Complete when every expected dataset has a plan and at least as many distinct stored pages as planned. */
export function isComplete(progress: RunProgress, expected: readonly Dataset[]): boolean {
  return expected.every((dataset) => {
    const p = progress.datasets[dataset];
    return p !== undefined && p.totalPages !== undefined && p.storedPages >= p.totalPages;
  });
}
