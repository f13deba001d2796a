import * as z from 'zod';
import { DatasetSchema, DateWindowSchema, PageNumberSchema, RunIdSchema } from '../../events/index.js';

/**
 * One page to download. The destination key is not part of the task: the downloader derives it from these
 * validated fields, so a message can never point a write outside its run's prefix.
 */
export const DownloadTaskSchema = z.object({
  runId: RunIdSchema,
  dataset: DatasetSchema,
  window: DateWindowSchema,
  page: PageNumberSchema,
  pageSize: z.number().int().min(1).max(50_000),
  totalPages: z.number().int().min(1),
  /** The page is of a whole-dataset snapshot, without date filters (PageRequest.fullSnapshot). */
  fullSnapshot: z.boolean().optional(),
});
export type DownloadTask = z.infer<typeof DownloadTaskSchema>;

/** The tasks queue (SQS in the cloud): the planner sends, the downloader is triggered by it. */
export interface TaskQueue {
  send(tasks: readonly DownloadTask[]): Promise<void>;
}
