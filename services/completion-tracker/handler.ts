import middy from '@middy/core';
import { type DetailStoreReader, validateFleetEvent } from '../../events/index.js';
import { withLogFields } from '../shared/log-context.js';
import {
  type CompletionDeps,
  type CompletionEvent,
  completionDetailTypes,
  trackCompletion,
} from './track-completion.js';

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
