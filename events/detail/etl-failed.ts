import * as z from 'zod';
import { DatasetSchema, PageNumberSchema, RunIdSchema, SchemaVersion1 } from './common.js';

export const StageSchema = z.enum(['planner', 'downloader', 'completion-tracker', 'query-runner', 'report']);

/** A stage gave up on a run: the reason is meant for a person and names the bad input. */
export const EtlFailedSchema = z.object({
  schemaVersion: SchemaVersion1,
  runId: RunIdSchema,
  stage: StageSchema,
  reason: z.string().min(1).max(4_000),
  dataset: DatasetSchema.optional(),
  page: PageNumberSchema.optional(),
  file: z.string().optional(),
});
