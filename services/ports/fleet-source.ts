import type { Dataset, DateWindow } from '../../events/index.js';
import type { SnapshotMode } from '../source-config/schema.js';

export interface PageRequest {
  dataset: Dataset;
  window: DateWindow;
  page: number;
  pageSize: number;
  /**
   * `total_pages` as the plan knew it. Pages are slices by offset: when the API's count changed since planning,
   * the slices moved, and storing the page could repeat or skip rows. The source then fails the page (terminal)
   * before anything is stored.
   */
  expectedTotalPages?: number;
  /**
   * Fetch the dataset whole: no date filters, and every row kept whatever its `created_at` (a snapshot of the
   * vehicles, see SnapshotMode). Decided once per run and dataset by the planner, carried by every task.
   */
  fullSnapshot?: boolean;
}

/**
 * Where a page's rows go, as NDJSON (one validated row per line), while they arrive: a page is never held whole
 * in memory. The sink must store atomically (the object store's `put` does): when the body turns out truncated
 * or invalid, the iterable throws and nothing may be left behind; a retried attempt calls the sink again.
 */
export type PageSink<T> = (ndjson: AsyncIterable<Uint8Array>) => Promise<T>;

/** A row the API sent that breaks the row schema, kept aside with why (see docs/decisions/0030). */
export interface RejectedRow {
  /** 0-based position in the page. */
  index: number;
  /** Field paths and messages, never the values. */
  reason: string;
  /** The row as the API sent it, cut to a few kilobytes. */
  row: string;
}

export interface FetchedPage<T> {
  /** `total_pages` as this response tells it. */
  totalPages: number;
  /** Rows handed to the sink. */
  rows: number;
  /** Rows left out for breaking the schema; the page failed instead if there were too many. */
  rejected: RejectedRow[];
  /**
   * Valid rows the API sent whose `created_at` is outside the window: the API is asked for the window rounded
   * outward to its filters' precision, so rows of the neighbouring nights may come and are left out here.
   * Absent for sources that send only the window's rows.
   */
  outsideWindow?: number;
  /**
   * Top-level fields of the API's rows that no column reads, with how many rows had each: a sign that the API
   * renamed or added a field (schema drift). Absent for sources that do not look.
   */
  unmappedFields?: Record<string, number>;
  /** What the sink returned. */
  stored: T;
}

/**
 * The fleet REST API, as a configuration describes it (OAuth, pagination, date filters, rate budget). The simulator
 * and real APIs sit behind it. Calls retry transient failures themselves (backoff, `Retry-After`); what they
 * throw is final for this invocation and says whether a later one may succeed (`retryable`).
 */
export interface FleetSource {
  /** The window a nightly schedule fired at `scheduledTime` fetches: contiguous, half-open, in the API's zone. */
  windowFor(scheduledTime: Date): DateWindow;
  /** When the dataset is fetched whole (SnapshotMode); sources without the setting never do. */
  snapshotMode?(dataset: Dataset): SnapshotMode;
  /** Rows per page to ask of the dataset's endpoint, at most. */
  maxPageSize(dataset: Dataset): number;
  /** `total_pages` for the request's window and page size, read from page `request.page`. */
  countPages(request: PageRequest): Promise<number>;
  /** Fetches one page and streams its validated rows into `sink`. */
  fetchPage<T>(request: PageRequest, sink: PageSink<T>): Promise<FetchedPage<T>>;
}

/**
 * What a fleet source that counts its traffic did since it was created (FleetApiSource.stats()): for the run's
 * summary, the Lambda entries' metrics (services/adapters/aws/lambda/telemetry.ts), tests and the benchmark.
 */
export interface SourceStats {
  /** HTTP requests for pages, retries and 401 repeats included. */
  pageRequests: number;
  /** Requests sent again: after a transient failure, and after a 401 with a freshly issued token. */
  retries: number;
  tokenRequests: number;
  /**
   * Failures that were retried, by what they were: `HTTP 429`, `HTTP 503`, `truncated`, `network`, and
   * `HTTP 401 (token refreshed)` for a request re-sent with a fresh token.
   */
  transientFailures: Record<string, number>;
  /** The most requests the budget let be in flight at once. */
  maxInFlight: number;
  /** Requests (pages and tokens) that waited for the rate budget before they could start. */
  budgetWaits: number;
  /** How long they waited, in all (milliseconds). */
  budgetWaitMs: number;
}
