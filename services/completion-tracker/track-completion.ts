import {
  type Dataset,
  DetailType,
  type EventPublisher,
  type FleetEvent,
  publishEvent,
} from '../../events/index.js';
import { isComplete, type RunLedger, totalsOf } from '../ports/run-ledger.js';
import type { Logger } from '../shared/logger.js';

export interface CompletionDeps {
  ledger: RunLedger;
  publisher: EventPublisher;
  /** Every dataset the configuration names: a run waits for all of them. */
  datasets: readonly Dataset[];
  logger: Logger;
}

export const completionDetailTypes = [
  DetailType.PagesPlanned,
  DetailType.PageDownloaded,
  DetailType.EtlFailed,
  DetailType.EtlDone,
] as const;

export type CompletionEvent = FleetEvent<(typeof completionDetailTypes)[number]>;

export type CompletionOutcome = 'waiting' | 'drained' | 'already-drained' | 'failed' | 'finished' | 'ignored';

/**
 * Keeps the run ledger: plans, stored pages, pages that gave up, and the run's end. After a plan or a page it
 * checks the whole run; only the caller that wins the ledger's conditional claim publishes DownloadsDrained, so
 * concurrent and repeated deliveries announce it once. A run with a page that gave up is never drained, since
 * that page is not stored; it is announced once the page is stored after all (a redrive).
 */
export async function trackCompletion(
  event: CompletionEvent,
  deps: CompletionDeps,
): Promise<CompletionOutcome> {
  const { runId } = event.detail;
  switch (event['detail-type']) {
    case DetailType.PagesPlanned: {
      const { dataset, totalPages, window, pageSize } = event.detail;
      await deps.ledger.recordPlan(runId, dataset, { totalPages, window, pageSize });
      break;
    }
    case DetailType.PageDownloaded: {
      const { dataset, page, rows } = event.detail;
      await deps.ledger.recordPage(runId, dataset, page, rows);
      break;
    }
    case DetailType.EtlFailed: {
      const { stage, dataset, page, reason } = event.detail;
      if (stage !== 'downloader' || dataset === undefined || page === undefined) return 'ignored';
      await deps.ledger.recordPageFailure(runId, dataset, page, reason);
      return 'failed';
    }
    case DetailType.EtlDone:
      await deps.ledger.markFinished(runId);
      return 'finished';
  }
  return announceIfComplete(runId, deps);
}

async function announceIfComplete(runId: string, deps: CompletionDeps): Promise<CompletionOutcome> {
  const progress = await deps.ledger.progress(runId);
  if (!isComplete(progress, deps.datasets) || progress.window === undefined) {
    return 'waiting';
  }
  if (!(await deps.ledger.claimDrained(runId))) {
    return 'already-drained';
  }
  const datasets = Object.fromEntries(
    deps.datasets.flatMap((d) => {
      const p = progress.datasets[d];
      return p ? [[d, totalsOf(p)]] : [];
    }),
  );
  try {
    await publishEvent(deps.publisher, DetailType.DownloadsDrained, {
      runId,
      window: progress.window,
      datasets,
    });
  } catch (error) {
    // Without the event nobody would ever run the queries: give the claim back so the retry of this delivery
    // (Lambda's, or the bus's) can win it again and publish.
    await deps.ledger.releaseClaim(runId);
    throw error;
  }
  deps.logger.info('downloads drained', { runId, datasets });
  return 'drained';
}
