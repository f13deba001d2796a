import * as z from 'zod';
import { DatasetSchema, DateWindowSchema, RunIdSchema, SchemaVersion1 } from './common.js';

export const DatasetTotalsSchema = z.object({
  pages: z.number().int().min(0),
  rows: z.number().int().min(0),
});
export type DatasetTotals = z.infer<typeof DatasetTotalsSchema>;

/** Pages and rows stored per dataset. */
export const DownloadedTotalsSchema = z.partialRecord(DatasetSchema, DatasetTotalsSchema);

/** Every planned page of every dataset of the run is stored. Published once per run. */
export const DownloadsDrainedSchema = z.object({
  schemaVersion: SchemaVersion1,
  runId: RunIdSchema,
  window: DateWindowSchema,
  datasets: DownloadedTotalsSchema,
});
