import { DetailType, type EventPublisher, publishEvent } from '../../events/index.js';
import type { FleetSource } from '../ports/fleet-source.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { StoredPageRecord } from '../ports/run-ledger.js';
import type { DownloadTask } from '../ports/task-queue.js';
import { rawPageKey } from '../shared/lake-keys.js';
import type { Logger } from '../shared/logger.js';
import { checksumWhileWriting, pageChecksum } from './page-checksum.js';
import { storeRejectedRows } from './rejected-rows.js';

export interface DownloaderDeps {
  source: FleetSource;
  rawStore: ObjectStore;
  publisher: EventPublisher;
  logger: Logger;
  /**
   * The tasks queue's maxReceiveCount: a task that fails on its last receive is announced as EtlFailed, with the
   * reason, before it moves to the dead-letter queue. Without it, failures are only logged.
   */
  maxReceiveCount?: number;
  /**
   * What the run's ledger recorded for a page when it was announced, if it was: its rows and the checksum of its
   * bytes. A stored page that disagrees (emptied, cut or edited since, even a digit) is fetched again instead of
   * being announced. Without it (the Lambda downloader, which cannot read the ledger; S3 writes are atomic and
   * checksummed in transit), stored pages are only checked for a whole last line.
   */
  recordedPage?: (task: DownloadTask) => Promise<StoredPageRecord | undefined>;
}

export interface StoredPage {
  key: string;
  rows: number;
  bytes: number;
  /** SHA-256 (hex) of the bytes stored: computed while they were written, or from the object found stored. */
  sha256: string;
  /** Rows left out for breaking the row schema, kept under `rejected/` (docs/decisions/0030). */
  rejectedRows: number;
  /** Valid rows left out for being created outside the window (FetchedPage); unknown for a page already stored. */
  outsideWindow?: number;
  /** Fields no column reads, per name the rows that had it (FetchedPage); unknown for a page already stored. */
  unmappedFields?: Record<string, number>;
}

export type DownloadOutcome = StoredPage;

/**
 * Fetches one page and stores it whole at a key derived from the validated task, then announces it. Storing
 * again after a redelivery writes the same bytes at the same key, so duplicates cannot appear in the lake.
 */
export async function downloadPage(task: DownloadTask, deps: DownloaderDeps): Promise<DownloadOutcome> {
  const { runId, dataset, page } = task;
  const key = rawPageKey(dataset, runId, page);
  const stored = (await alreadyStored(task, key, deps)) ?? (await storePage(task, key, deps));
  await publishEvent(deps.publisher, DetailType.PageDownloaded, {
    runId,
    dataset,
    page,
    rows: stored.rows,
    bytes: stored.bytes,
    key,
    sha256: stored.sha256,
    ...(stored.outsideWindow === undefined ? {} : { outsideWindow: stored.outsideWindow }),
    ...(stored.unmappedFields === undefined ? {} : { unmappedFields: stored.unmappedFields }),
  });
  return stored;
}

/**
 * A page whose object exists was stored whole by an earlier attempt (puts are atomic), perhaps by a process
 * killed before it announced the page: announce it again from the lake instead of asking the API again, so a
 * resumed run downloads each page once. The row count is the object's line count (one row per line).
 *
 * Unless the object is not what was stored: a page emptied, cut or edited since (by hand, a disk, a restore) must
 * not resume as stored, or the night succeeds without its rows. The object must end with a whole JSON row, hold
 * as many rows as the ledger recorded when the page was announced, and hash to the checksum recorded then (a digit
 * changed keeps the row count); otherwise it is fetched again. Hashing here reads nothing more: the body was read
 * to count its rows.
 */
async function alreadyStored(
  task: DownloadTask,
  key: string,
  deps: DownloaderDeps,
): Promise<StoredPage | undefined> {
  if (!(await deps.rawStore.exists(key))) return undefined;
  const body = await deps.rawStore.get(key);
  if (body === undefined) return undefined;
  let rows = 0;
  for (const byte of body) if (byte === 0x0a) rows += 1;
  const sha256 = pageChecksum(body);
  const recorded = await deps.recordedPage?.(task);
  const damage = storedPageDamage(body, { rows, sha256 }, recorded);
  if (damage !== undefined) {
    deps.logger.warn('stored page is not what was stored; fetching it again', { key, damage });
    return undefined;
  }
  deps.logger.info('page already stored; announcing it again', { key, rows });
  return { key, rows, bytes: body.byteLength, sha256, rejectedRows: 0 };
}

/** Why a stored page cannot be the whole page an earlier attempt stored, or undefined when it can be. */
function storedPageDamage(
  body: Uint8Array,
  found: { rows: number; sha256: string },
  recorded: StoredPageRecord | undefined,
): string | undefined {
  if (recorded !== undefined && found.rows !== recorded.rows) {
    return `${found.rows} row(s) where ${recorded.rows} were recorded`;
  }
  if (recorded?.sha256 !== undefined && found.sha256 !== recorded.sha256) {
    return `its bytes changed: SHA-256 ${found.sha256.slice(0, 12)}… where ${recorded.sha256.slice(0, 12)}… was recorded`;
  }
  if (body.byteLength === 0) return undefined;
  if (body[body.byteLength - 1] !== 0x0a) return 'the last row is cut (no line end)';
  const start = body.lastIndexOf(0x0a, body.byteLength - 2) + 1;
  try {
    const last: unknown = JSON.parse(Buffer.from(body.subarray(start, body.byteLength - 1)).toString('utf8'));
    if (typeof last !== 'object' || last === null || Array.isArray(last)) return 'the last line is not a row';
  } catch {
    return 'the last line is not JSON';
  }
  return undefined;
}

/**
 * Streams the page's validated rows into the raw store at `key`. The store's `put` is atomic and the source's
 * stream throws on a truncated or invalid body, so a failed attempt leaves no object behind; a retried attempt
 * writes the key from the start.
 */
async function storePage(task: DownloadTask, key: string, deps: DownloaderDeps): Promise<StoredPage> {
  const { runId, dataset, window, page, pageSize } = task;
  const request = {
    dataset,
    window,
    page,
    pageSize,
    expectedTotalPages: task.totalPages,
    ...(task.fullSnapshot === true ? { fullSnapshot: true } : {}),
  };
  const fetched = await deps.source.fetchPage(request, async (ndjson) => {
    const checksum = checksumWhileWriting(ndjson);
    const { bytes } = await deps.rawStore.put(key, checksum.body, { contentType: 'application/x-ndjson' });
    return { bytes, sha256: checksum.digest() };
  });
  if (fetched.totalPages !== task.totalPages) {
    deps.logger.warn('total_pages changed since planning', {
      runId,
      dataset,
      page,
      planned: task.totalPages,
      now: fetched.totalPages,
    });
  }
  if (fetched.rejected.length > 0) {
    await storeRejectedRows(deps.rawStore, task, fetched.rejected, deps.logger);
  }
  if (fetched.outsideWindow !== undefined && fetched.outsideWindow > 0) {
    deps.logger.info('rows created outside the window left out', {
      runId,
      dataset,
      page,
      outsideWindow: fetched.outsideWindow,
    });
  }
  const unmappedFields = eventSafeNames(fetched.unmappedFields ?? {});
  if (unmappedFields !== undefined) {
    deps.logger.warn('the API sent fields no column reads (renamed or new?)', {
      runId,
      dataset,
      page,
      unmappedFields,
    });
  }
  return {
    key,
    ...(unmappedFields === undefined ? {} : { unmappedFields }),
    rows: fetched.rows,
    bytes: fetched.stored.bytes,
    sha256: fetched.stored.sha256,
    rejectedRows: fetched.rejected.length,
    ...(fetched.outsideWindow === undefined ? {} : { outsideWindow: fetched.outsideWindow }),
  };
}

/** The drift counts as PageDownloaded can carry them (names cut to 100 characters, at most 50), or none. */
function eventSafeNames(fields: Record<string, number>): Record<string, number> | undefined {
  const entries = Object.entries(fields).filter(([, rows]) => rows > 0);
  if (entries.length === 0) return undefined;
  // A Map, then fromEntries: a field named __proto__ stays a plain key instead of touching the prototype.
  const cut = new Map<string, number>();
  for (const [name, rows] of entries.slice(0, 50)) {
    const key = name.slice(0, 100);
    cut.set(key, (cut.get(key) ?? 0) + rows);
  }
  return Object.fromEntries(cut);
}
