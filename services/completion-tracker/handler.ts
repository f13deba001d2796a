import middy from '@middy/core';
import { type DetailStoreReader, validateFleetEvent } from '../../events/index.js';
import { withLogFields } from '../shared/log-context.js';
import type { SameSet } from '../shared/same-set.js';
import { type ConsumedDetailType, consumedDetailTypes } from '../topology.js';
import {
  type CompletionDeps,
  type CompletionDetailType,
  type CompletionEvent,
  trackCompletion,
} from './track-completion.js';

/** What the tracker's rule routes to it (services/topology.ts), which its handler accepts. */
export const completionDetailTypes = consumedDetailTypes('completionTracker');
// The core handles exactly what the rule routes: a detail-type in one and not the other does not compile.
const coreHandlesItsRule: SameSet<ConsumedDetailType<'completionTracker'>, CompletionDetailType> = true;
void coreHandlesItsRule;

export interface CompletionTrackerHandlerDeps extends CompletionDeps {
  /**
   * Where an EtlDone over 256 KB is stored when it arrives by reference (the results store's `event-details/`;
   * decision 60). Only read, and only to validate the event: the tracker needs the run id, which a reference
   * carries, but it does not trust an event it has not validated whole.
   */
  eventDetails: DetailStoreReader;
}

export function createCompletionTrackerHandler(deps: CompletionTrackerHandlerDeps) {
  return middy<CompletionEvent>()
    .use(validateFleetEvent(completionDetailTypes, { detailStore: deps.eventDetails }))
    .handler(function completionTracker(event, context) {
      // The drained claim's lease outlives this invocation, whose end Lambda enforces at the timeout.
      const { runId } = event.detail;
      const page = 'page' in event.detail ? { dataset: event.detail.dataset, page: event.detail.page } : {};
      return withLogFields({ runId, ...page }, () =>
        trackCompletion(event, deps, { remainingTimeMs: context.getRemainingTimeInMillis() }),
      );
    });
}
