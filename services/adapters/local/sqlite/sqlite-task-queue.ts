import { type DownloadTask, type TaskQueue, tasksToSend } from '../../../ports/task-queue.js';
import type { SqliteQueue } from './sqlite-queue.js';

/**
 * The tasks queue in the local state store: what SqsTaskQueue sends, checked the same way (`tasksToSend`), queued
 * in one transaction, so a refused call leaves nothing behind.
 */
export class SqliteTaskQueue implements TaskQueue {
  /**
   * `onQueued` hears how many messages a call queued, before any consumer can receive them (the insert and the
   * call are synchronous): the local runtime counts them as pending work.
   */
  constructor(
    private readonly queue: SqliteQueue,
    private readonly onQueued: (messages: number) => void = () => {},
  ) {}

  async send(tasks: readonly DownloadTask[]): Promise<void> {
    const checked = tasksToSend(tasks);
    if (checked.length === 0) return;
    this.queue.send(checked.map((task) => JSON.stringify(task)));
    this.onQueued(checked.length);
  }
}
