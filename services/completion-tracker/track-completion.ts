import {
  type Dataset,
  DetailType,
  type EventPublisher,
  type FleetEvent,
  publishEvent,
} from '../../events/index.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { isComplete, type RunLedger, totalsOf } from '../ports/run-ledger.js';
import { TransientError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export interface CompletionDeps {
  ledger: RunLedger;
  publisher: EventPublisher;
  /** Every dataset the configuration names: a run waits for all of them. */
  datasets: readonly Dataset[];
  logger: Logger;
  /** Times the drained claim's lease; the system clock unless a test sets it. */
  clock?: Clock;
}

/** What the tracker knows of its own invocation: how long it may still run (Lambda's context says). */
export interface Invocation {
  remainingTimeMs: number;
}

/**
 * How long after its claimant's end a drained claim lapses: room for the clocks of two Lambda hosts to differ
 * and for a publish in flight at the end to land. The lease must expire before Lambda's first retry of a failed
 * invocation, one minute after it ended
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html), so that the retry takes
 * the claim over: tests/infra checks the tracker's timeout and this margin against it.
 */
export const DRAIN_LEASE_MARGIN_MS = 10_000;
/** Without an invocation to go by (a direct call), the claimant may live as long as any Lambda invocation. */
const LONGEST_INVOCATION_MS = 15 * 60_000;

/**
 * The detail-types this core handles. The tracker's rule (services/topology.ts) routes exactly these: the handler
 * accepts what the topology says, and the compiler checks the two are one set (handler.ts).
 */
export type CompletionDetailType =
  | typeof DetailType.PagesPlanned
  | typeof DetailType.PageDownloaded
  | typeof DetailType.EtlFailed
  | typeof DetailType.EtlDone;

export type CompletionEvent = FleetEvent<CompletionDetailType>;

export type CompletionOutcome =
  | 'waiting'
  | 'drained'
  | 'already-drained'
  | 'claimed-elsewhere'
  | 'failed'
  | 'finished'
  | 'ignored';

/**
 * Keeps the run ledger: plans, stored pages, pages that gave up, and the run's end. After a plan or a page it
 * checks the whole run; only the caller that wins the ledger's conditional claim publishes DownloadsDrained, so
 * concurrent and repeated deliveries announce it once. A run with a page that gave up is never drained, since
 * that page is not stored; it is announced once the page is stored after all (a redrive).
 */
export async function trackCompletion(
  event: CompletionEvent,
  deps: CompletionDeps,
  invocation?: Invocation,
): Promise<CompletionOutcome> {
  const { runId } = event.detail;
  switch (event['detail-type']) {
    case DetailType.PagesPlanned: {
      const { dataset, totalPages, window, pageSize } = event.detail;
      await deps.ledger.recordPlan(runId, dataset, { totalPages, window, pageSize });
      break;
    }
    case DetailType.PageDownloaded: {
      const { dataset, page, rows, sha256 } = event.detail;
      await deps.ledger.recordPage(runId, dataset, page, rows, sha256);
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
  return announceIfComplete(event, deps, invocation);
}

/**
 * The claim's lease lasts until this invocation has certainly ended (Lambda stops it at its timeout) plus a
 * margin. A claimant that dies before publishing leaves the claim to lapse; Lambda retries the failed
 * invocation a minute later or more, and that retry (the same event) takes the claim over. A retry that still
 * finds its own event's claim live fails, so that Lambda retries again later; another event's live claim is
 * left to its claimant and that claimant's retries (docs/decisions/0077-drained-claim-lease.md).
 */
async function announceIfComplete(
  event: CompletionEvent,
  deps: CompletionDeps,
  invocation: Invocation | undefined,
): Promise<CompletionOutcome> {
  const { runId } = event.detail;
  const progress = await deps.ledger.progress(runId);
  if (!isComplete(progress, deps.datasets) || progress.window === undefined) {
    return 'waiting';
  }
  const now = (deps.clock ?? systemClock).now().getTime();
  const lifetime = invocation?.remainingTimeMs ?? LONGEST_INVOCATION_MS;
  const claim = await deps.ledger.claimDrained(runId, {
    id: event.id,
    leaseExpiresAt: new Date(now + lifetime + DRAIN_LEASE_MARGIN_MS),
  });
  if (claim.outcome === 'announced') return 'already-drained';
  if (claim.outcome === 'held') {
    const until = claim.leaseExpiresAt.toISOString();
    if (claim.claimant === event.id) {
      throw new TransientError(
        `run ${runId}: an earlier attempt of this event claimed DownloadsDrained and may still publish it ` +
          `until ${until}; retry after that to take the claim over`,
      );
    }
    deps.logger.info('downloads drained claimed by another event', {
      runId,
      claimant: claim.claimant,
      until,
    });
    return 'claimed-elsewhere';
  }
  if (claim.tookOverFrom !== undefined) {
    deps.logger.warn('took over a drained claim whose claimant never confirmed it', {
      runId,
      claimant: claim.tookOverFrom.claimant,
      leaseExpiredAt: claim.tookOverFrom.leaseExpiredAt.toISOString(),
    });
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
  // A crash before this line leaves the claim to lapse and be taken over: DownloadsDrained may then go out twice
  // (what the query runner does with the second: decision 77).
  await deps.ledger.confirmDrained(runId);
  deps.logger.info('downloads drained', { runId, datasets });
  return 'drained';
}
