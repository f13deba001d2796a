// One process contending for a state folder's lock: waits for the start signal (a file), tries once with no
// wait, and prints `won` or `busy`. A winner keeps the lock a moment so that every loser finds it held.
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireStateLock, StateFolderBusyError } from '../../../local/state-lock/index.js';

const [stateDir, startSignal] = process.argv.slice(2);
if (stateDir === undefined || startSignal === undefined) {
  throw new Error('usage: lock-contender.ts STATE_DIR START_SIGNAL_FILE');
}
while (!existsSync(startSignal)) await sleep(5);
try {
  const lock = await acquireStateLock({
    stateDir,
    command: `contender ${process.pid}`,
    waitMs: 0,
    report: () => undefined,
  });
  process.stdout.write('won\n');
  await sleep(1_500);
  lock.release();
} catch (error) {
  if (!(error instanceof StateFolderBusyError)) throw error;
  process.stdout.write('busy\n');
}
