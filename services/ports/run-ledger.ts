import type { Dataset, DatasetTotals } from '../../events/index.js';

export interface DatasetProgress {
  /** Undefined until the dataset's plan is recorded: pages may arrive before their plan. */
  totalPages: number | undefined;
  storedPages: number;
  rows: number;
}

export interface RunProgress {
  datasets: Partial<Record<Dataset, DatasetProgress>>;
}

/**
 * Counts distinct stored pages against the plan of each dataset of a run. Every method is idempotent:
 * recording the same plan or page twice changes nothing.
 */
export interface RunLedger {
  recordPlan(runId: string, dataset: Dataset, totalPages: number): Promise<void>;
  /** Returns false when this page was already recorded. */
  recordPage(runId: string, dataset: Dataset, page: number, rows: number): Promise<boolean>;
  progress(runId: string): Promise<RunProgress>;
  /**
   * A conditional write: resolves true for exactly one caller per run, however many race for it. The winner
   * publishes DownloadsDrained.
   */
  claimDrained(runId: string): Promise<boolean>;
}

export function totalsOf(progress: DatasetProgress): DatasetTotals {
  return { pages: progress.storedPages, rows: progress.rows };
}
