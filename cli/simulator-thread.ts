import { parentPort, workerData } from 'node:worker_threads';
import * as z from 'zod';
import { type SimulatorOptions, startSimulator } from '../simulator/index.js';

/**
 * The simulator's side of simulator-worker.ts: serves the fleet API from its own thread and answers the host's
 * requests for its stats and for closing. Options arrive as workerData (plain data: no clock).
 */
const RequestSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stats'), id: z.number() }),
  z.object({ type: z.literal('close'), id: z.number() }),
]);

const port = parentPort;
if (port === null) throw new Error('simulator-thread.ts runs as a worker thread only');
const simulator = await startSimulator(workerData as SimulatorOptions);
port.postMessage({ type: 'ready', url: simulator.url, port: simulator.port });
port.on('message', (message: unknown) => {
  const request = RequestSchema.parse(message);
  if (request.type === 'stats') {
    port.postMessage({ type: 'stats', id: request.id, stats: simulator.stats() });
    return;
  }
  // The host terminates the thread once it has the answer.
  void simulator.close().then(() => port.postMessage({ type: 'closed', id: request.id }));
});
