import type { EventBridgeEnvelope } from '../events/index.js';
import {
  allDetailTypes,
  DetailReferenceSchema,
  DetailType,
  isDetailReference,
  parseFleetEvent,
} from '../events/index.js';
import { formatBytes, formatCount } from '../services/shared/number-format.js';

/** Turns the bus's events into one human line each, as the run goes. */
export function progressLine(raw: EventBridgeEnvelope): string | undefined {
  if (isDetailReference(raw.detail)) {
    // Over 256 KB, the detail is in the results store (decision 60); the consumers resolve it, this line need not.
    const { runId, detailRef } = DetailReferenceSchema.parse(raw.detail);
    return `${raw['detail-type']} of run ${runId} sent by reference: ${formatBytes(detailRef.bytes)} at ${detailRef.key}`;
  }
  const event = parseFleetEvent(raw, allDetailTypes);
  switch (event['detail-type']) {
    case DetailType.PagesPlanned: {
      const d = event.detail;
      return `planned ${d.dataset}: ${formatCount(d.totalPages)} page(s) of up to ${formatCount(d.pageSize)} rows`;
    }
    case DetailType.PageDownloaded: {
      const d = event.detail;
      const outside =
        d.outsideWindow === undefined || d.outsideWindow === 0
          ? ''
          : ` (${formatCount(d.outsideWindow)} created outside the window left out)`;
      return `stored ${d.dataset} page ${d.page}: ${formatCount(d.rows)} rows, ${formatBytes(d.bytes)}${outside}`;
    }
    case DetailType.DownloadsDrained: {
      const parts = Object.entries(event.detail.datasets).map(
        ([dataset, t]) => `${dataset} ${formatCount(t.pages)} page(s) / ${formatCount(t.rows)} rows`,
      );
      return `downloads drained: ${parts.join(', ')}`;
    }
    case DetailType.SqlFileExecuted: {
      const d = event.detail;
      return `ran ${d.file} (${d.index + 1}/${d.total}): ${d.statements} statement(s) in ${Math.round(d.durationMs)} ms`;
    }
    case DetailType.EtlDone: {
      const d = event.detail;
      // A GitHub folder's commit says which SQL answered; a folder's content hash would only be noise here.
      const commit = d.sqlCommit === undefined ? '' : `, SQL at commit ${d.sqlCommit}`;
      return `EtlDone: ${d.files.length} SQL file(s), results: ${Object.keys(d.results).join(', ') || 'none'}${commit}`;
    }
    case DetailType.EtlFailed: {
      const d = event.detail;
      const where = [d.dataset, d.page === undefined ? undefined : `page ${d.page}`, d.file]
        .filter(Boolean)
        .join(' ');
      return `EtlFailed in ${d.stage}${where ? ` (${where})` : ''}: ${d.reason}`;
    }
  }
}
