import { z } from 'zod';
import type { DetailType, FleetEvent } from '../../events/index.js';
import type { ObjectStore } from '../ports/object-store.js';
import { TerminalError } from '../shared/errors.js';
import { reportKey } from '../shared/lake-keys.js';
import type { Logger } from '../shared/logger.js';

export const ResultSetSchema = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))),
});
export type StoredResultSet = z.infer<typeof ResultSetSchema>;

export const ReportSchema = z.object({
  runId: z.string(),
  window: z.object({ from: z.string(), to: z.string(), timeZone: z.string() }),
  results: z.record(z.string(), ResultSetSchema),
});
export type Report = z.infer<typeof ReportSchema>;

export interface ReportDeps {
  resultsStore: ObjectStore;
  logger: Logger;
}

/** Gathers every named result of the run into one report next to them; re-running rewrites the same object. */
export async function writeReport(
  event: FleetEvent<typeof DetailType.EtlDone>,
  deps: ReportDeps,
): Promise<Report> {
  const { runId, window, results } = event.detail;
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
  const report: Report = { runId, window, results: loaded };
  await deps.resultsStore.put(reportKey(runId), JSON.stringify(report, null, 2), {
    contentType: 'application/json',
  });
  deps.logger.info('report written', { runId, key: reportKey(runId), results: Object.keys(loaded) });
  return report;
}
