import * as z from 'zod';
import {
  DatasetSchema,
  DateWindowSchema,
  DownloadedTotalsSchema,
  PageNumberSchema,
  StageSchema,
  UnknownVehiclesSchema,
} from '../../events/index.js';
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

const ReportFilesSchema = z.object({
  json: z.string(),
  html: z.string(),
  csv: z.record(z.string(), z.string()),
});

/**
 * report.json of a night that finished: everything the page shows, for programs. `status` is absent from reports
 * written before failed nights had one, hence the default.
 */
export const ReportSchema = z.object({
  status: z.literal('succeeded').default('succeeded'),
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
  /** Readings the sensor join dropped for an unknown vehicle, when the EtlDone event carried them. */
  unknownVehicles: UnknownVehiclesSchema.optional(),
  files: ReportFilesSchema,
});
export type Report = z.infer<typeof ReportSchema>;

/** What the EtlFailed event that wrote a failed night's report said. */
const FailureSchema = z.object({
  stage: StageSchema,
  reason: z.string(),
  dataset: DatasetSchema.optional(),
  page: PageNumberSchema.optional(),
  file: z.string().optional(),
});

/** One dataset as far as the night got: its plan (once recorded) and the distinct pages stored. */
const DatasetReachedSchema = z.object({
  /** Undefined when the dataset was never planned (its planner failed, or had not run yet). */
  plannedPages: z.number().int().min(0).optional(),
  storedPages: z.number().int().min(0),
  rows: z.number().int().min(0),
});

/**
 * report.json of a night that failed: what failed (the EtlFailed event), and where the night stopped, read from
 * the run ledger when the event arrived: the plans, the pages stored, the pages that gave up, whether downloads
 * were drained (the SQL files started).
 */
export const FailedReportSchema = z.object({
  status: z.literal('failed'),
  runId: z.string(),
  /** The night's window, known once a plan of the run is recorded. */
  window: DateWindowSchema.optional(),
  /** When the stage gave up (the EtlFailed event's time). */
  failedAt: z.string(),
  failure: FailureSchema,
  /** Per dataset that the ledger knows of, in the topology's order. */
  datasets: z.partialRecord(DatasetSchema, DatasetReachedSchema),
  /** Pages that gave up after their last attempt and are not stored since (the ledger's failures). */
  failedPages: z.array(z.object({ dataset: DatasetSchema, page: PageNumberSchema, reason: z.string() })),
  /** Every planned page was stored and DownloadsDrained went out: the SQL files started. */
  drained: z.boolean(),
  files: ReportFilesSchema,
});
export type FailedReport = z.infer<typeof FailedReportSchema>;

/** Either report.json, told apart by `status`. */
export const AnyReportSchema = z.union([FailedReportSchema, ReportSchema]);
