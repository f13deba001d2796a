import * as z from 'zod';
import {
  DateWindowSchema,
  ObjectKeySchema,
  RunIdSchema,
  SchemaVersion1,
  SqlVersionFields,
} from './common.js';
import { DownloadedTotalsSchema } from './downloads-drained.js';
import { UnknownVehiclesSchema } from './unknown-vehicles.js';

export const SqlFileNameSchema = z
  .string()
  .regex(/^[0-9A-Za-z_.-]+\.sql$/, 'SQL file name: letters, digits, _ . - and the .sql extension');

/** One SQL file of the run ran to completion; the query runner reacts to it by running the next file. */
export const SqlFileExecutedSchema = z.object({
  schemaVersion: SchemaVersion1,
  runId: RunIdSchema,
  window: DateWindowSchema,
  file: SqlFileNameSchema,
  index: z.number().int().min(0),
  total: z.number().int().min(1),
  statements: z.number().int().min(0),
  queryExecutionIds: z.array(z.string().min(1)),
  dataScannedBytes: z.number().int().min(0),
  durationMs: z.number().min(0),
  /**
   * The chain of files this one belongs to: the id of the DownloadsDrained event that started it. The query runner
   * keys its Athena work and its step records by it, so a redelivered or duplicated SqlFileExecuted continues the
   * same chain instead of starting another (optional: older events do not have it, and then their own id is used).
   */
  attempt: z
    .string()
    .regex(/^[0-9A-Za-z-]{1,128}$/, 'an event id: letters, digits and -, at most 128')
    .optional(),
  /** Where the rows of the file's result set are stored, when its last statement is a query. */
  resultKey: ObjectKeySchema.optional(),
  /** The version of the SQL the run reads, pinned at its first file; the next file is read at the same one. */
  ...SqlVersionFields,
  /** Carried forward from file to file so the last one can summarise the run without a store of its own. */
  runSoFar: z.object({
    results: z.record(z.string().regex(/^[0-9A-Za-z_]+$/), ObjectKeySchema),
    queryExecutionIds: z.array(z.string().min(1)),
    dataScannedBytes: z.number().int().min(0),
    durationMs: z.number().min(0),
    /** DownloadsDrained's totals, carried to EtlDone (optional: older events do not have it). */
    datasets: DownloadedTotalsSchema.optional(),
    /** The unknown-vehicle count, once its file ran (optional: older events and other SQL sources). */
    unknownVehicles: UnknownVehiclesSchema.optional(),
    /** The files run so far, in order: EtlDone names them without listing the source again (optional: older events). */
    files: z.array(SqlFileNameSchema).optional(),
  }),
});
export type SqlFileExecuted = z.infer<typeof SqlFileExecutedSchema>;
