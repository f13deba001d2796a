import { DetailType, type EventPublisher, publishEvent } from '../../events/index.js';
import type { FleetSource } from '../ports/fleet-source.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { DownloadTask } from '../ports/task-queue.js';
import { rawPageKey } from '../shared/lake-keys.js';
import type { Logger } from '../shared/logger.js';

export interface DownloaderDeps {
  source: FleetSource;
  rawStore: ObjectStore;
  publisher: EventPublisher;
  logger: Logger;
}

export interface DownloadOutcome {
  key: string;
  rows: number;
  bytes: number;
}

/** One row per line; the rows were validated by the source, so serialising them cannot fail. */
export function* toNdjson(rows: readonly unknown[]): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  const chunk: string[] = [];
  for (const row of rows) {
    chunk.push(JSON.stringify(row));
    if (chunk.length === 1000) {
      yield encoder.encode(`${chunk.join('\n')}\n`);
      chunk.length = 0;
    }
  }
  if (chunk.length > 0) {
    yield encoder.encode(`${chunk.join('\n')}\n`);
  }
}

async function* toAsync(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/**
 * Fetches one page and stores it whole at a key derived from the validated task, then announces it. Storing
 * again after a redelivery writes the same bytes at the same key, so duplicates cannot appear in the lake.
 */
export async function downloadPage(task: DownloadTask, deps: DownloaderDeps): Promise<DownloadOutcome> {
  const { runId, dataset, window, page, pageSize } = task;
  const fetched = await deps.source.fetchPage({ dataset, window, page, pageSize });
  if (fetched.totalPages !== task.totalPages) {
    deps.logger.warn('total_pages changed since planning', {
      runId,
      dataset,
      page,
      planned: task.totalPages,
      now: fetched.totalPages,
    });
  }
  const key = rawPageKey(dataset, runId, page);
  const { bytes } = await deps.rawStore.put(key, toAsync(toNdjson(fetched.rows)), {
    contentType: 'application/x-ndjson',
  });
  const rows = fetched.rows.length;
  await publishEvent(deps.publisher, DetailType.PageDownloaded, { runId, dataset, page, rows, bytes, key });
  return { key, rows, bytes };
}
