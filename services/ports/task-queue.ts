import * as z from 'zod';
import { DatasetSchema, DateWindowSchema, PageNumberSchema, RunIdSchema } from '../../events/index.js';
import { TerminalError } from '../shared/errors.js';

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

/**
 * The tasks queue (SQS in the cloud, the local state store on one machine): the planner sends, the downloader is
 * triggered by it. Every adapter sends what `tasksToSend` keeps (tests/contracts/task-queue.contract.ts):
 * a call with an invalid task, or with two different tasks for one page, queues nothing and says which; identical
 * tasks of one call are queued once; fields outside the schema are not queued.
 */
export interface TaskQueue {
  send(tasks: readonly DownloadTask[]): Promise<void>;
}

/** The page a task is for: two tasks for the same page of a run must be the same task. */
const pageOf = (task: DownloadTask) => `${task.runId} ${task.dataset} page ${task.page}`;

/**
 * What a `send` queues: every task parsed (a TerminalError names the first invalid one by its position and
 * field, before anything is queued), identical tasks once. Callers type their tasks, but a planner bug or a
 * hand-written redrive must not reach the downloader as a message it will dead-letter hours later.
 */
export function tasksToSend(tasks: readonly DownloadTask[]): DownloadTask[] {
  const byPage = new Map<string, { task: DownloadTask; json: string }>();
  for (const [index, raw] of tasks.entries()) {
    const parsed = DownloadTaskSchema.safeParse(raw);
    if (!parsed.success) {
      throw new TerminalError(
        `refusing to queue invalid download task #${index}: ${z.prettifyError(parsed.error)}`,
        { cause: parsed.error },
      );
    }
    const task = parsed.data;
    const json = JSON.stringify(task);
    const seen = byPage.get(pageOf(task));
    if (seen === undefined) byPage.set(pageOf(task), { task, json });
    else if (seen.json !== json) {
      throw new TerminalError(
        `refusing two different download tasks for ${pageOf(task)} in one send: ${seen.json} and ${json}`,
      );
    }
  }
  return [...byPage.values()].map(({ task }) => task);
}
