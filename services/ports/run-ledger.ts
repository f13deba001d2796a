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

/** What the ledger keeps of a stored page, to check the object against on a resume. */
export interface StoredPageRecord {
  rows: number;
  /**
   * SHA-256 (hex) of the bytes stored, computed while they were written (docs/decisions/0090). Undefined for pages
   * recorded before checksums were, or announced by a downloader that did not send one.
   */
  sha256?: string;
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
  /** Whether DownloadsDrained was claimed (announced, or being announced) for the current attempt of the run. */
  drained: boolean;
  /** Whether the run's EtlDone was seen: a later `etl run` of the window is a deliberate re-run. */
  finished: boolean;
}

/** Who asks for the drained claim, and until when a claim it wins holds without being confirmed. */
export interface DrainClaimant {
  /** The id of the event being handled: Lambda's retries and EventBridge's redeliveries of it carry the same. */
  id: string;
  /** After this the claimant can no longer publish (its invocation has ended), so the claim may be taken over. */
  leaseExpiresAt: Date;
}

/**
 * `won`: the caller holds the claim and publishes (`tookOverFrom`: an unconfirmed claim whose lease had expired);
 * `announced`: DownloadsDrained went out, nothing to do; `held`: another live claim, unconfirmed, until its lease
 * expires.
 */
export type DrainClaim =
  | { outcome: 'won'; tookOverFrom?: { claimant: string; leaseExpiredAt: Date } }
  | { outcome: 'announced' }
  | { outcome: 'held'; claimant: string; leaseExpiresAt: Date };

/**
 * Counts distinct stored pages against the plan of each dataset of a run. Every method is idempotent:
 * recording the same plan or page twice changes nothing.
 */
export interface RunLedger {
  recordPlan(runId: string, dataset: Dataset, plan: DatasetPlan): Promise<void>;
  /**
   * Returns false when this page was already recorded: the first record is kept, rows and checksum alike. Storing
   * a page clears its recorded failure.
   */
  recordPage(runId: string, dataset: Dataset, page: number, rows: number, sha256?: string): Promise<boolean>;
  /**
   * What was recorded for a stored page (its rows, and the checksum of its bytes when one was sent), or undefined
   * when it is not recorded. Optional: a ledger the caller cannot read (the Lambda downloader has no access to the
   * run ledger) leaves stored pages unchecked against it.
   */
  storedPage?(runId: string, dataset: Dataset, page: number): Promise<StoredPageRecord | undefined>;
  /** A page gave up after its last attempt; the reason is kept for `etl dlq list` and the run's status. */
  recordPageFailure(runId: string, dataset: Dataset, page: number, reason: string): Promise<void>;
  progress(runId: string): Promise<RunProgress>;
  /**
   * A conditional write: of every caller racing for it, exactly one wins the run's claim; the winner publishes
   * DownloadsDrained and then confirms it. A claim never confirmed lapses at its lease's expiry: the next caller
   * after that takes it over (again exactly one), so a claimant that died between claiming and publishing
   * strands the run for a bounded time only (docs/decisions/0077-drained-claim-lease.md).
   */
  claimDrained(runId: string, claimant: DrainClaimant): Promise<DrainClaim>;
  /** DownloadsDrained of the claim went out: the claim no longer lapses. */
  confirmDrained(runId: string): Promise<void>;
  /**
   * Gives the claim back, so that another caller can win it at once: the claimant's publish failed, or a person
   * resumes a run whose query stage never finished (a new attempt). Never called on a redelivery.
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
