import * as z from 'zod';
import { DatasetSchema, type DetailType, type FleetEvent } from '../../events/index.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { RunLedger } from '../ports/run-ledger.js';
import { TerminalError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { toCsv } from './csv.js';
import {
  type FailedReport,
  FailedReportSchema,
  type Report,
  ReportSchema,
  ResultSetSchema,
  reportFiles,
} from './report-model.js';
import { failedNightPage, reportPage } from './report-page.js';

export {
  AnyReportSchema,
  type FailedReport,
  FailedReportSchema,
  type Report,
  ReportSchema,
} from './report-model.js';

export interface ReportDeps {
  resultsStore: ObjectStore;
  /** Read only: where a failed night stopped (its plans, stored and failed pages). */
  ledger: Pick<RunLedger, 'progress'>;
  logger: Logger;
}

/**
 * The first EtlDone consumer: gathers the run's named results into report.json, one CSV per result and a
 * self-contained HTML page with the chart, next to each other in the results store. Everything written derives
 * from the event and the stored results only (no clock), so a redelivery or a replay rewrites the same bytes.
 */
export async function writeReport(
  event: FleetEvent<typeof DetailType.EtlDone>,
  deps: Pick<ReportDeps, 'resultsStore' | 'logger'>,
): Promise<Report> {
  const { runId, window, results, files, summary, datasets, unknownVehicles } = event.detail;
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
    status: 'succeeded',
    runId,
    window,
    finishedAt: event.time,
    results: loaded,
    sqlFiles: files,
    sql: summary,
    ...(datasets === undefined ? {} : { datasets }),
    ...(unknownVehicles === undefined ? {} : { unknownVehicles }),
    files: reportFiles(runId, Object.keys(loaded)),
  });
  for (const [name, result] of Object.entries(loaded)) {
    const key = report.files.csv[name];
    if (key !== undefined)
      await deps.resultsStore.put(key, toCsv(result), { contentType: 'text/csv; charset=utf-8' });
  }
  await writePageAndJson(deps.resultsStore, report.files, reportPage(report), report);
  deps.logger.info('report written', { runId, html: report.files.html, results: Object.keys(loaded) });
  return report;
}

/**
 * A night that failed gets a report too, at the same place a finished night's would be: what failed (the
 * EtlFailed event) and where the night stopped (the run ledger as it is when the event arrives). A later EtlFailed
 * of the night rewrites it with the ledger as it is then; a resume that finishes replaces it with the night's
 * answer. An EtlFailed of a night the ledger says finished (a replay, or one delivered late) is stale: a failed
 * report must not hide the answer, so it writes nothing.
 */
export async function writeFailedNightReport(
  event: FleetEvent<typeof DetailType.EtlFailed>,
  deps: ReportDeps,
): Promise<FailedReport | undefined> {
  const { runId, stage, reason, dataset, page, file } = event.detail;
  const progress = await deps.ledger.progress(runId);
  if (progress.finished) {
    deps.logger.info('failure of a finished night: report left as it is', { runId, stage });
    return undefined;
  }
  const datasets: FailedReport['datasets'] = {};
  for (const name of DatasetSchema.options) {
    const p = progress.datasets[name];
    if (p === undefined) continue;
    datasets[name] = {
      ...(p.totalPages === undefined ? {} : { plannedPages: p.totalPages }),
      storedPages: p.storedPages,
      rows: p.rows,
    };
  }
  const report = FailedReportSchema.parse({
    status: 'failed',
    runId,
    ...(progress.window === undefined ? {} : { window: progress.window }),
    failedAt: event.time,
    failure: {
      stage,
      reason,
      ...(dataset === undefined ? {} : { dataset }),
      ...(page === undefined ? {} : { page }),
      ...(file === undefined ? {} : { file }),
    },
    datasets,
    // In a fixed order, so the same ledger gives the same bytes.
    failedPages: [...progress.failures].sort((a, b) => a.dataset.localeCompare(b.dataset) || a.page - b.page),
    drained: progress.drained,
    files: reportFiles(runId, []),
  });
  await writePageAndJson(deps.resultsStore, report.files, failedNightPage(report), report);
  deps.logger.info('failed night report written', { runId, html: report.files.html, stage });
  return report;
}

async function writePageAndJson(
  store: ObjectStore,
  files: { json: string; html: string },
  html: string,
  json: Report | FailedReport,
): Promise<void> {
  await store.put(files.html, html, { contentType: 'text/html; charset=utf-8' });
  // Written last: a reader that finds report.json finds the page and the CSV files too.
  await store.put(files.json, `${JSON.stringify(json, null, 2)}\n`, { contentType: 'application/json' });
}
