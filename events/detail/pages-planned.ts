import * as z from 'zod';
import { DatasetSchema, DateWindowSchema, RunIdSchema, SchemaVersion1 } from './common.js';

/** The planner found how many pages a dataset has in the run's window and queued one task per page. */
export const PagesPlannedSchema = z.object({
  schemaVersion: SchemaVersion1,
  runId: RunIdSchema,
  dataset: DatasetSchema,
  window: DateWindowSchema,
  totalPages: z.number().int().min(0),
  pageSize: z.number().int().min(1).max(50_000),
  plannedAt: z.iso.datetime(),
});
