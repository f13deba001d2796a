import middy from '@middy/core';
import { validateFleetEvent } from '../../events/index.js';
import {
  type CompletionDeps,
  type CompletionEvent,
  completionDetailTypes,
  trackCompletion,
} from './track-completion.js';

export function createCompletionTrackerHandler(deps: CompletionDeps) {
  return middy<CompletionEvent>()
    .use(validateFleetEvent(completionDetailTypes))
    .handler(function completionTracker(event) {
      return trackCompletion(event, deps);
    });
}
