import { z } from 'zod';
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
import { describeError, isRetryable } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { nightlyWindow, runIdFor } from '../shared/run-identity.js';

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
  pageSize: number;
  logger: Logger;
}

export type PlanOutcome =
  | { runId: string; dataset: Dataset; totalPages: number }
  | { runId: string; dataset: Dataset; failed: string };

/**
 * Reads the first page only to learn `total_pages`, then queues one task per page (page 1 included: the
 * downloader owns storing pages, so the planner stays a planner). Tasks go out before PagesPlanned, so a retry
 * after a failed publish only re-sends tasks, which the downloader handles idempotently.
 */
export async function planPages(input: PlannerInput, deps: PlannerDeps): Promise<PlanOutcome> {
  const window = nightlyWindow(new Date(input.time));
  const runId = runIdFor(window);
  const { dataset } = input;
  let totalPages: number;
  try {
    totalPages = (await deps.source.fetchPage({ dataset, window, page: 1, pageSize: deps.pageSize }))
      .totalPages;
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
      reason,
    });
    deps.logger.error('planning failed', { runId, dataset, reason });
    return { runId, dataset, failed: reason };
  }
  const tasks: DownloadTask[] = Array.from({ length: totalPages }, (_, i) => ({
    runId,
    dataset,
    window,
    page: i + 1,
    pageSize: deps.pageSize,
    totalPages,
  }));
  await deps.queue.send(tasks);
  await publishEvent(deps.publisher, DetailType.PagesPlanned, {
    runId,
    dataset,
    window,
    totalPages,
    pageSize: deps.pageSize,
    plannedAt: deps.clock.now().toISOString(),
  });
  deps.logger.info('pages planned', { runId, dataset, totalPages });
  return { runId, dataset, totalPages };
}
