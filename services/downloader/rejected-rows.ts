import type { Dataset } from '../../events/index.js';
import type { RejectedRow } from '../ports/fleet-source.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { DownloadTask } from '../ports/task-queue.js';
import type { Logger } from '../shared/logger.js';
import { ndjsonChunks } from '../shared/rows.js';

/**
 * Where a page's rejected rows are kept: beside the raw lake's dataset folders, not inside them, so the raw tables
 * (LOCATION <raw>/<dataset>/) never read them: `rejected/sensors/run=2026-11-24/page-00001.ndjson`.
 */
export function rejectedRowsKey(dataset: Dataset, runId: string, page: number): string {
  return `rejected/${dataset}/run=${runId}/page-${String(page).padStart(5, '0')}.ndjson`;
}

/** One line per rejected row: its index in the page, why it was rejected, and the row as the API sent it. */
export async function storeRejectedRows(
  store: ObjectStore,
  task: DownloadTask,
  rejected: readonly RejectedRow[],
  logger: Logger,
): Promise<string> {
  const key = rejectedRowsKey(task.dataset, task.runId, task.page);
  await store.put(key, ndjsonChunks(rejected), { contentType: 'application/x-ndjson' });
  logger.warn('rows rejected by the row schema', {
    runId: task.runId,
    dataset: task.dataset,
    page: task.page,
    rejectedRows: rejected.length,
    key,
    first: rejected[0]?.reason,
  });
  return key;
}
