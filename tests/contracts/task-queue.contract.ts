import { type DownloadTask, DownloadTaskSchema, type TaskQueue } from '../../services/ports/task-queue.js';
import { TerminalError } from '../../services/shared/errors.js';
import { runId, window } from '../helpers/samples.js';
import { type AdapterFixture, describeContract } from './adapter-fixture.js';

export interface TaskQueueUnderTest {
  queue: TaskQueue;
  /** Receives and deletes every message the queue holds now: each body as the downloader reads it, parsed JSON. */
  drain(): Promise<unknown[]>;
}

const task = (page: number, overrides: Partial<DownloadTask> = {}): DownloadTask => ({
  runId,
  dataset: 'sensors',
  window,
  page,
  pageSize: 50_000,
  totalPages: 30,
  ...overrides,
});

const byPage = (a: unknown, b: unknown) =>
  DownloadTaskSchema.parse(a).page - DownloadTaskSchema.parse(b).page ||
  DownloadTaskSchema.parse(a).dataset.localeCompare(DownloadTaskSchema.parse(b).dataset);

/** Hands a task that breaks the schema to `send`, as a planner bug or a hand-edited redrive would. */
const unchecked = (value: unknown) => value as DownloadTask;

/**
 * What the planner may rely on, whatever queue it sends to: nothing lost, nothing queued twice in one call, and a
 * call with bad input refused whole with an error that names it (docs/decisions/0096).
 */
export function taskQueueContract(fixture: AdapterFixture<TaskQueueUnderTest>): void {
  describeContract('TaskQueue', fixture, (fresh) => {
    it('queues every task of a call once, as the JSON the downloader parses back to the same task', async () => {
      const { queue, drain } = await fresh();
      const tasks = [
        ...Array.from({ length: 23 }, (_, i) => task(i + 1)),
        task(1, { dataset: 'vehicles', totalPages: 1, fullSnapshot: true }),
      ];

      await queue.send(tasks);

      const queued = (await drain()).sort(byPage);
      expect(queued.map((body) => DownloadTaskSchema.parse(body))).toEqual([...tasks].sort(byPage));
      expect(queued).toEqual([...tasks].sort(byPage));
    });

    it('queues nothing for an empty call', async () => {
      const { queue, drain } = await fresh();
      await queue.send([]);
      expect(await drain()).toEqual([]);
    });

    it('queues identical tasks of one call once', async () => {
      const { queue, drain } = await fresh();

      await queue.send([task(1), task(2), task(1), { ...task(2) }]);

      expect((await drain()).sort(byPage)).toEqual([task(1), task(2)]);
    });

    it('refuses a call with two different tasks for one page, naming the page, and queues none of it', async () => {
      const { queue, drain } = await fresh();

      const sending = queue.send([task(3), task(1), task(1, { pageSize: 10 })]);

      await expect(sending).rejects.toThrow(TerminalError);
      await expect(sending).rejects.toThrow(/two different download tasks for 2026-11-24 sensors page 1/);
      expect(await drain()).toEqual([]);
    });

    it.each([
      ['page 0', { page: 0 }, /page/],
      ['a page size over 50,000', { pageSize: 50_001 }, /pageSize/],
      ['a run id that is not a run id', { runId: '../2026-11-24' }, /runId/],
      ['an unknown dataset', { dataset: 'trailers' }, /dataset/],
    ])(
      'refuses a call with a task of %s, naming the task and the field, and queues none of it',
      async (_, bad, field) => {
        const { queue, drain } = await fresh();

        const sending = queue.send([task(1), unchecked({ ...task(2), ...bad })]);

        await expect(sending).rejects.toThrow(TerminalError);
        await expect(sending).rejects.toThrow(/invalid download task #1/);
        await expect(sending).rejects.toThrow(field);
        expect(await drain()).toEqual([]);
      },
    );

    it('refuses a task with a field missing', async () => {
      const { queue, drain } = await fresh();
      const { totalPages: _, ...withoutTotal } = task(1);

      await expect(queue.send([unchecked(withoutTotal)])).rejects.toThrow(
        /invalid download task #0[\s\S]*totalPages/,
      );
      expect(await drain()).toEqual([]);
    });

    it('queues only the task’s own fields: a destination key cannot ride along', async () => {
      const { queue, drain } = await fresh();

      await queue.send([unchecked({ ...task(1), key: '../../elsewhere/page.ndjson' })]);

      expect(await drain()).toEqual([task(1)]);
    });
  });
}
