import * as z from 'zod';
import type { DetailType, FleetEvent } from '../../events/index.js';
import type { ObjectStore } from '../ports/object-store.js';
import { TerminalError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { toCsv } from './csv.js';
import { type Report, ReportSchema, ResultSetSchema, reportFiles } from './report-model.js';
import { reportPage } from './report-page.js';

export { type Report, ReportSchema, ResultSetSchema, type StoredResultSet } from './report-model.js';

export interface ReportDeps {
  resultsStore: ObjectStore;
  logger: Logger;
}

/**
 * The first EtlDone consumer: gathers the run's named results into report.json, one CSV per result and a
 * self-contained HTML page with the chart, next to each other in the results store. Everything written derives
 * from the event and the stored results only (no clock), so a redelivery or a replay rewrites the same bytes.
 */
export async function writeReport(
  event: FleetEvent<typeof DetailType.EtlDone>,
  deps: ReportDeps,
): Promise<Report> {
  const { runId, window, results, files, summary, datasets } = event.detail;
  const loaded: Report['results'] = {};
  for (const [name, key] of Object.entries(results)) {
    const body = await deps.resultsStore.get(key);
    if (body === undefined) {
      throw new TerminalError(`result "${name}" of run ${runId} is missing at ${key}`);
    }
    const parsed = ResultSetSchema.safeParse(JSON.parse(new TextDecoder().decode(body)));
    if (!parsed.success) {
      throw new TerminalError(
        `result "${name}" at ${key} is not a result set: ${z.prettifyError(parsed.error)}`,
      );
    }
    loaded[name] = parsed.data;
  }
  const report: Report = ReportSchema.parse({
    runId,
    window,
    finishedAt: event.time,
    results: loaded,
    sqlFiles: files,
    sql: summary,
    ...(datasets === undefined ? {} : { datasets }),
    files: reportFiles(runId, Object.keys(loaded)),
  });
  for (const [name, result] of Object.entries(loaded)) {
    const key = report.files.csv[name];
    if (key !== undefined)
      await deps.resultsStore.put(key, toCsv(result), { contentType: 'text/csv; charset=utf-8' });
  }
  await deps.resultsStore.put(report.files.html, reportPage(report), {
    contentType: 'text/html; charset=utf-8',
  });
  // Written last: a reader that finds report.json finds the page and the CSV files too.
  await deps.resultsStore.put(report.files.json, `${JSON.stringify(report, null, 2)}\n`, {
    contentType: 'application/json',
  });
  deps.logger.info('report written', { runId, html: report.files.html, results: Object.keys(loaded) });
  return report;
}
