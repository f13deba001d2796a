import middy from '@middy/core';
import { ClaimCheckPublisher, validateFleetEvent } from '../../events/index.js';
import { withLogFields } from '../shared/log-context.js';
import type { SameSet } from '../shared/same-set.js';
import { type ConsumedDetailType, consumedDetailTypes } from '../topology.js';
import {
  type QueryRunnerDeps,
  type QueryRunnerDetailType,
  type QueryRunnerEvent,
  runNextFile,
} from './run-next-file.js';

// The core handles exactly what the rule routes: a detail-type in one and not the other does not compile.
const coreHandlesItsRule: SameSet<ConsumedDetailType<'queryRunner'>, QueryRunnerDetailType> = true;
void coreHandlesItsRule;

export interface QueryRunnerHandlerOptions {
  /** Entries over this go by reference; EventBridge's 256 KB unless a test lowers it. */
  maxEventBytes?: number;
}

/**
 * SqlFileExecuted and EtlDone grow with the SQL folder: over 256 KB they are stored in the results store, which
 * the runner already writes and every consumer of them already reads, and sent by reference
 * (docs/decisions/0060-oversized-events-go-by-reference.md). The runner consumes its own SqlFileExecuted, so it
 * resolves references from the same store.
 */
export function createQueryRunnerHandler(deps: QueryRunnerDeps, options: QueryRunnerHandlerOptions = {}) {
  const core: QueryRunnerDeps = {
    ...deps,
    publisher: new ClaimCheckPublisher(deps.publisher, deps.resultsStore, {
      ...(options.maxEventBytes === undefined ? {} : { maxEntryBytes: options.maxEventBytes }),
    }),
  };
  return middy<QueryRunnerEvent>()
    .use(validateFleetEvent(consumedDetailTypes('queryRunner'), { detailStore: deps.resultsStore }))
    .handler(function queryRunner(event) {
      // The file is the runner's to choose (the next one), so only the run is set here; its lines name the file.
      return withLogFields({ runId: event.detail.runId }, () => runNextFile(event, core));
    });
}
