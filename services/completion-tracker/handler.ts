import middy from '@middy/core';
import { DetailType, validateFleetEvent } from '../../events/index.js';
import { type CompletionDeps, type CompletionEvent, trackCompletion } from './track-completion.js';

export function createCompletionTrackerHandler(deps: CompletionDeps) {
  return middy<CompletionEvent>()
    .use(validateFleetEvent([DetailType.PagesPlanned, DetailType.PageDownloaded]))
    .handler(function completionTracker(event) {
      return trackCompletion(event, deps);
    });
}
