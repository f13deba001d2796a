import * as z from 'zod';
import {
  type Dataset,
  DatasetSchema,
  DetailType,
  type EventPublisher,
  publishEvent,
} from '../../events/index.js';
import type { Clock } from '../ports/clock.js';
import type { FleetSource } from '../ports/fleet-source.js';
import type { DownloadTask, TaskQueue } from '../ports/task-queue.js';
import { describeError, isRetryable, TerminalError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { runIdFor } from '../shared/run-identity.js';

/**
 * What the nightly schedule sends, one per dataset: the rule's input transformer adds the scheduled `time`
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html).
 */
export const PlannerInputSchema = z.object({
  dataset: DatasetSchema,
  time: z.iso.datetime(),
});
export type PlannerInput = z.infer<typeof PlannerInputSchema>;

export interface PlannerDeps {
  source: FleetSource;
  queue: TaskQueue;
  publisher: EventPublisher;
  clock: Clock;
  /** Rows per page to ask for; the source's configured page size for the dataset caps it. */
  pageSize: number;
  logger: Logger;
  /**
   * Whether no earlier night of the dataset is in the lake, for a source whose snapshot mode is `first-night`.
   * Without it (the Lambda planner, which cannot read the raw lake), `first-night` fails the run, saying so.
   */
  isFirstNight?: (dataset: Dataset, runId: string) => Promise<boolean>;
  /**
   * The rows per page of the plan already recorded for this run and dataset, if any. A night planned again (a
   * resume, a retried invocation) must ask for the same pages: stored pages of one size mixed with pages of another
   * lose or repeat rows. Without it (the Lambda planner, which has no ledger access), `pageSize` decides.
   */
  recordedPageSize?: (dataset: Dataset, runId: string) => Promise<number | undefined>;
}

export type PlanOutcome =
  | { runId: string; dataset: Dataset; totalPages: number }
  | { runId: string; dataset: Dataset; failed: string };

/**
 * Reads the first page only to learn `total_pages`, then queues one task per page (page 1 included: the
 * downloader owns storing pages, so the planner stays a planner). The window is the source's nightly window for
 * the scheduled time (a calendar day in the API's time zone). Tasks go out before PagesPlanned, so a retry after
 * a failed publish only re-sends tasks, which the downloader handles idempotently.
 */
export async function planPages(input: PlannerInput, deps: PlannerDeps): Promise<PlanOutcome> {
  const window = deps.source.windowFor(new Date(input.time));
  const runId = runIdFor(window);
  const { dataset } = input;
  const asked = Math.min(deps.pageSize, deps.source.maxPageSize(dataset));
  const recorded = await deps.recordedPageSize?.(dataset, runId);
  const pageSize = recorded ?? asked;
  if (recorded !== undefined && recorded !== asked) {
    deps.logger.warn('keeping the page size of the plan this run recorded', {
      runId,
      dataset,
      recorded,
      asked,
    });
  }
  let totalPages: number;
  let fullSnapshot: boolean;
  try {
    fullSnapshot = await isSnapshotNight(dataset, runId, deps);
    // The source retries transient failures itself (backoff, Retry-After); what reaches here is final for now.
    totalPages = await deps.source.countPages({
      dataset,
      window,
      page: 1,
      pageSize,
      ...(fullSnapshot ? { fullSnapshot } : {}),
    });
  } catch (error) {
    // Transient failures go back to Lambda's retries; a terminal one (a 4xx, an invalid body) will not heal,
    // so the run is failed now with the API's reason rather than after every retry.
    if (isRetryable(error)) throw error;
    const reason = `page 1 of ${dataset}: ${describeError(error)}`;
    await publishEvent(deps.publisher, DetailType.EtlFailed, {
      runId,
      stage: 'planner',
      dataset,
      page: 1,
      reason: reason.slice(0, 4_000),
    });
    deps.logger.error('planning failed', { runId, dataset, reason });
    return { runId, dataset, failed: reason };
  }
  const tasks: DownloadTask[] = Array.from({ length: totalPages }, (_, i) => ({
    runId,
    dataset,
    window,
    page: i + 1,
    pageSize,
    totalPages,
    ...(fullSnapshot ? { fullSnapshot } : {}),
  }));
  await deps.queue.send(tasks);
  await publishEvent(deps.publisher, DetailType.PagesPlanned, {
    runId,
    dataset,
    window,
    totalPages,
    pageSize,
    plannedAt: deps.clock.now().toISOString(),
  });
  deps.logger.info('pages planned', { runId, dataset, totalPages, fullSnapshot });
  return { runId, dataset, totalPages };
}

/** Whether this night fetches the dataset whole (SnapshotMode). */
async function isSnapshotNight(dataset: Dataset, runId: string, deps: PlannerDeps): Promise<boolean> {
  const mode = deps.source.snapshotMode?.(dataset) ?? 'never';
  if (mode !== 'first-night') return mode === 'every-night';
  if (deps.isFirstNight === undefined) {
    throw new TerminalError(
      `${dataset} snapshot "first-night" needs to know whether an earlier night is in the raw lake, which this ` +
        'planner cannot read; use "every-night", or run the first night with etl run',
    );
  }
  return deps.isFirstNight(dataset, runId);
}
