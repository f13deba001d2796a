import * as z from 'zod';
import {
  DateWindowSchema,
  ObjectKeySchema,
  RunIdSchema,
  SchemaVersion1,
  SqlVersionFields,
} from './common.js';
import { DownloadedTotalsSchema } from './downloads-drained.js';
import { SqlFileNameSchema } from './sql-file-executed.js';
import { UnknownVehiclesSchema } from './unknown-vehicles.js';

const QueryNameSchema = z.string().regex(/^[0-9A-Za-z_]+$/);

/** The run's SQL files all ran. Consumers find each named query's result rows at its key. */
export const EtlDoneSchema = z.object({
  schemaVersion: SchemaVersion1,
  runId: RunIdSchema,
  window: DateWindowSchema,
  files: z.array(SqlFileNameSchema),
  results: z.record(QueryNameSchema, ObjectKeySchema),
  summary: z.object({
    queryExecutionIds: z.array(z.string().min(1)),
    dataScannedBytes: z.number().int().min(0),
    durationMs: z.number().min(0),
  }),
  /**
   * What the run downloaded (DownloadsDrained's totals), carried through the SQL files so consumers get the run's
   * counts with its results. Optional: EtlDone events published before it was added do not have it.
   */
  datasets: DownloadedTotalsSchema.optional(),
  /**
   * Readings of the run dropped by the sensor join because their vehicle is unknown, when the SQL counts them
   * (queries/35_unknown_vehicle_readings.sql). Optional: older events and other SQL sources do not have it.
   */
  unknownVehicles: UnknownVehiclesSchema.optional(),
  /**
   * The one version of the SQL every file of the run was read at: `sqlCommit` for a GitHub folder, `sqlSha256` for
   * a folder. Optional: older events do not have it.
   */
  ...SqlVersionFields,
});
