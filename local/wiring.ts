import type { Context } from 'aws-lambda';
import type { Dataset, EventPublisher } from '../events/index.js';
import { createCompletionTrackerHandler } from '../services/completion-tracker/handler.js';
import { createDownloaderHandler } from '../services/downloader/handler.js';
import { createPlannerHandler } from '../services/planner/handler.js';
import type { Clock } from '../services/ports/clock.js';
import type { FleetSource } from '../services/ports/fleet-source.js';
import type { ObjectStore } from '../services/ports/object-store.js';
import type { QueryEngine } from '../services/ports/query-engine.js';
import type { RunLedger } from '../services/ports/run-ledger.js';
import type { SqlSource } from '../services/ports/sql-source.js';
import type { TaskQueue } from '../services/ports/task-queue.js';
import { createQueryRunnerHandler } from '../services/query-runner/handler.js';
import { rawRunPrefix } from '../services/shared/lake-keys.js';
import type { Logger } from '../services/shared/logger.js';
import { type Resource, topology } from '../services/topology.js';

/** Every port a service may need, as the local runtime provides them. */
export interface LocalPorts {
  source: FleetSource;
  queue: TaskQueue;
  publisher: EventPublisher;
  rawStore: ObjectStore;
  warehouseStore: ObjectStore;
  resultsStore: ObjectStore;
  engine: QueryEngine;
  sqlSource: SqlSource;
  ledger: RunLedger;
  clock: Clock;
  datasets: readonly Dataset[];
  database: string;
  pageSize: number;
  logger: (service: string) => Logger;
}

export type LocalHandler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * The runtime hands a handler raw JSON, as Lambda does. The handler's first middleware parses it (zod) before
 * its core runs, so widening the declared event type here hides nothing from the core.
 */
function fromRawEvents<E>(handler: (event: E, context: Context) => Promise<unknown>): LocalHandler {
  return (event, context) => handler(event as E, context);
}

/**
 * What a pipeline stage reads on this machine beyond its topology entry. In AWS it cannot (README, Known limits),
 * so these reads make the local runtime stricter than AWS, never looser: each only refuses or keeps a plan or a page.
 */
export const LOCAL_ONLY_READS: Readonly<Record<string, readonly Resource[]>> = {
  // A first night is one with no earlier run's pages in the raw lake; a night planned again keeps its page size.
  planner: ['rawBucket', 'runProgress'],
  // A stored page must still hold the rows it was announced with.
  downloader: ['runProgress'],
};

/**
 * The pipeline's own stages: the same Middy handlers their Lambda entries export, built with local ports, some of
 * them local-only (the planner reads the raw lake, the downloader the ledger). Every other service of the topology
 * is a consumer, wired from its declaration alone (consumer-wiring.ts).
 */
export const stageHandlers: Readonly<Record<string, (ports: LocalPorts) => LocalHandler>> = {
  planner: (p) =>
    fromRawEvents(
      createPlannerHandler({
        source: p.source,
        queue: p.queue,
        publisher: p.publisher,
        clock: p.clock,
        pageSize: p.pageSize,
        logger: p.logger('planner'),
        // Locally the planner can see the raw lake: a first night is one with no earlier run's pages in it.
        // Locally the planner can read the ledger: a night planned again keeps the page size of its first plan.
        recordedPageSize: async (dataset, runId) =>
          (await p.ledger.progress(runId)).datasets[dataset]?.pageSize,
        isFirstNight: async (dataset, runId) => {
          const own = rawRunPrefix(dataset, runId);
          const keys = await p.rawStore.list(`${dataset}/run=`);
          return keys.every((key) => key.startsWith(own));
        },
      }),
    ),
  downloader: (p) =>
    fromRawEvents(
      createDownloaderHandler({
        source: p.source,
        rawStore: p.rawStore,
        publisher: p.publisher,
        logger: p.logger('downloader'),
        maxReceiveCount: topology.queues.tasks.maxReceiveCount,
        // Locally the downloader can read the ledger: a stored page must still hold the rows, and the bytes, it was
        // announced with.
        recordedPage: async (task) => p.ledger.storedPage?.(task.runId, task.dataset, task.page),
      }),
    ),
  completionTracker: (p) =>
    fromRawEvents(
      createCompletionTrackerHandler({
        ledger: p.ledger,
        publisher: p.publisher,
        datasets: p.datasets,
        eventDetails: p.resultsStore,
        logger: p.logger('completionTracker'),
      }),
    ),
  queryRunner: (p) =>
    fromRawEvents(
      createQueryRunnerHandler({
        sqlSource: p.sqlSource,
        engine: p.engine,
        publisher: p.publisher,
        resultsStore: p.resultsStore,
        database: p.database,
        rawLocation: p.rawStore.location,
        warehouseLocation: p.warehouseStore.location,
        logger: p.logger('queryRunner'),
      }),
    ),
};
