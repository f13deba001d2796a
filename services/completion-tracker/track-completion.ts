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

export type CompletionEvent = FleetEvent<typeof DetailType.PagesPlanned | typeof DetailType.PageDownloaded>;

export type CompletionOutcome = 'waiting' | 'drained' | 'already-drained';

/**
 * Records the plan or the page in the ledger, then checks the whole run. Only the caller that wins the ledger's
 * conditional claim publishes DownloadsDrained, so concurrent and repeated deliveries announce it once.
 */
export async function trackCompletion(
  event: CompletionEvent,
  deps: CompletionDeps,
): Promise<CompletionOutcome> {
  const { runId } = event.detail;
  if (event['detail-type'] === DetailType.PagesPlanned) {
    const { dataset, totalPages, window } = event.detail;
    await deps.ledger.recordPlan(runId, dataset, { totalPages, window });
  } else {
    const { dataset, page, rows } = event.detail;
    await deps.ledger.recordPage(runId, dataset, page, rows);
  }
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
  await publishEvent(deps.publisher, DetailType.DownloadsDrained, {
    runId,
    window: progress.window,
    datasets,
  });
  deps.logger.info('downloads drained', { runId, datasets });
  return 'drained';
}
