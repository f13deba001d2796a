import type { Dataset, DatasetTotals, DateWindow } from '../../events/index.js';

export interface DatasetPlan {
  totalPages: number;
  window: DateWindow;
  /** Rows per page the plan was made with: a resumed night asks for the same pages (undefined in old records). */
  pageSize?: number;
}

export interface DatasetProgress {
  /** Undefined until the dataset's plan is recorded: pages may arrive before their plan. */
  totalPages: number | undefined;
  /** The recorded plan's rows per page, when the plan recorded it. */
  pageSize?: number;
  storedPages: number;
  rows: number;
}

export interface PageFailure {
  dataset: Dataset;
  page: number;
  reason: string;
}

export interface RunProgress {
  /** The run's window, known once any plan of the run is recorded. */
  window: DateWindow | undefined;
  datasets: Partial<Record<Dataset, DatasetProgress>>;
  /** Pages that gave up (dead-lettered) and are not stored since: while any is left, the run has failed. */
  failures: PageFailure[];
  /** Whether DownloadsDrained was claimed for the current attempt of the run. */
  drained: boolean;
  /** Whether the run's EtlDone was seen: a later `etl run` of the window is a deliberate re-run. */
  finished: boolean;
}

/**
 * Counts distinct stored pages against the plan of each dataset of a run. Every method is idempotent:
 * recording the same plan or page twice changes nothing.
 */
export interface RunLedger {
  recordPlan(runId: string, dataset: Dataset, plan: DatasetPlan): Promise<void>;
  /** Returns false when this page was already recorded. Storing a page clears its recorded failure. */
  recordPage(runId: string, dataset: Dataset, page: number, rows: number): Promise<boolean>;
  /**
   * The rows recorded for a stored page, or undefined when it is not recorded. Optional: a ledger the caller cannot
   * read (the Lambda downloader has no access to the run ledger) leaves stored pages unchecked against it.
   */
  storedPageRows?(runId: string, dataset: Dataset, page: number): Promise<number | undefined>;
  /** A page gave up after its last attempt; the reason is kept for `etl dlq list` and the run's status. */
  recordPageFailure(runId: string, dataset: Dataset, page: number, reason: string): Promise<void>;
  progress(runId: string): Promise<RunProgress>;
  /**
   * A conditional write: resolves true for exactly one caller per run, however many race for it. The winner
   * publishes DownloadsDrained.
   */
  claimDrained(runId: string): Promise<boolean>;
  /**
   * Gives the claim back, so that resuming a run whose query stage never finished announces DownloadsDrained
   * again (a new attempt). Never called on a redelivery, only when a person resumes the run.
   */
  releaseClaim(runId: string): Promise<void>;
  /** Records that the run's EtlDone was published. */
  markFinished(runId: string): Promise<void>;
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
