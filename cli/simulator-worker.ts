import { Worker } from 'node:worker_threads';
import * as z from 'zod';
import type { SimulatorOptions, SimulatorStats } from '../simulator/index.js';

/**
 * The built-in simulator on its own thread. It generates every row it serves, which costs about as much CPU as
 * the pipeline spends receiving them; on the pipeline's thread it would take turns with the downloader, the
 * bus and DuckDB's callbacks on one event loop. On a thread of its own it works the way a remote API does,
 * alongside the pipeline (docs/decisions/0050). The resident set is still the one process's.
 */
export interface SimulatorThread {
  url: string;
  stats(): Promise<SimulatorStats>;
  close(): Promise<void>;
}

const ReadySchema = z.object({ type: z.literal('ready'), url: z.string(), port: z.number() });
const ReplySchema = z.object({
  type: z.enum(['stats', 'closed']),
  id: z.number(),
  stats: z.unknown().optional(),
});

export async function startSimulatorThread(
  options: Omit<SimulatorOptions, 'clock'>,
): Promise<SimulatorThread> {
  const worker = new Worker(new URL('./simulator-thread-entry.js', import.meta.url), { workerData: options });
  const pending = new Map<number, (reply: z.infer<typeof ReplySchema>) => void>();
  let failure: Error | undefined;
  const ready = new Promise<z.infer<typeof ReadySchema>>((resolve, reject) => {
    worker.once('message', (message) => resolve(ReadySchema.parse(message)));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the simulator thread exited (${code}) before serving`)));
  });
  const { url } = await ready;
  worker.on('message', (message: unknown) => {
    const reply = ReplySchema.safeParse(message);
    if (!reply.success) return;
    pending.get(reply.data.id)?.(reply.data);
    pending.delete(reply.data.id);
  });
  worker.on('error', (error) => {
    failure = error;
  });
  worker.on('exit', (code) => {
    failure ??= new Error(`the simulator thread exited (${code})`);
    for (const [, settle] of pending) settle({ type: 'closed', id: -1, stats: undefined });
    pending.clear();
  });
  let nextId = 0;
  const ask = (type: 'stats' | 'close') =>
    new Promise<z.infer<typeof ReplySchema>>((resolve, reject) => {
      if (failure) {
        reject(failure);
        return;
      }
      const id = nextId++;
      pending.set(id, resolve);
      worker.postMessage({ type, id });
    });
  return {
    url,
    // The simulator's own stats object: structured clone keeps its plain data.
    stats: async () => (await ask('stats')).stats as SimulatorStats,
    close: async () => {
      if (!failure) await ask('close');
      await worker.terminate();
    },
  };
}
