import * as z from 'zod';
import { DateWindowSchema, DownloadedTotalsSchema } from '../../events/index.js';
import { reportKey } from '../shared/lake-keys.js';

export const ResultSetSchema = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))),
});
export type StoredResultSet = z.infer<typeof ResultSetSchema>;

/** Where the report's files are, next to each other so the page's relative links to its CSV files work. */
export function reportFiles(runId: string, resultNames: readonly string[]) {
  const folder = reportKey(runId).replace(/report\.json$/, '');
  return {
    json: reportKey(runId),
    html: `${folder}report.html`,
    csv: Object.fromEntries(resultNames.map((name) => [name, `${folder}${name}.csv`])),
  };
}

/** report.json: everything the page shows, for programs. */
export const ReportSchema = z.object({
  runId: z.string(),
  window: DateWindowSchema,
  /** When the run's last SQL file finished (the EtlDone event's time). */
  finishedAt: z.string(),
  results: z.record(z.string(), ResultSetSchema),
  sqlFiles: z.array(z.string()),
  sql: z.object({
    queryExecutionIds: z.array(z.string()),
    dataScannedBytes: z.number(),
    durationMs: z.number(),
  }),
  /** Pages and rows downloaded per dataset, when the EtlDone event carried them. */
  datasets: DownloadedTotalsSchema.optional(),
  files: z.object({ json: z.string(), html: z.string(), csv: z.record(z.string(), z.string()) }),
});
export type Report = z.infer<typeof ReportSchema>;
