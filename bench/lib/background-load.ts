import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A deliberate background load for a benchmark run: `cores` processes that each keep one core busy (a loop of pure
 * arithmetic, nothing shared with the measured processes but the CPU), started before the measurements and stopped
 * after, so that a figure "on a busy machine" is taken under a known load rather than whatever other work happens
 * to run. Each loop ends by itself once its parent is gone (its parent process id changes), so a benchmark that is
 * killed leaves no busy process behind.
 */
export interface BackgroundLoad {
  cores: number;
  stop(): Promise<void>;
}

const BUSY_LOOP = `
  const parent = process.ppid;
  for (;;) {
    let x = 0;
    for (let i = 0; i < 5e7; i++) x = (x * 31 + i) | 0;
    if (process.ppid !== parent || x === 0.5) process.exit(0);
  }
`;

export function startBackgroundLoad(cores: number): BackgroundLoad {
  const loops: ChildProcess[] = Array.from({ length: cores }, () =>
    spawn(process.execPath, ['-e', BUSY_LOOP], { stdio: 'ignore' }),
  );
  const onExit = () => {
    for (const loop of loops) loop.kill('SIGKILL');
  };
  process.once('exit', onExit);
  return {
    cores,
    stop: async () => {
      process.off('exit', onExit);
      await Promise.all(
        loops.map(
          (loop) =>
            new Promise<void>((resolve) => {
              if (loop.exitCode !== null || loop.signalCode !== null) resolve();
              else {
                loop.once('exit', () => resolve());
                loop.kill('SIGKILL');
              }
            }),
        ),
      );
    },
  };
}

/** BENCH_LOAD=N (default 0): how many cores the background load keeps busy. */
export function backgroundLoadFromEnvironment(): number {
  const cores = Number(process.env.BENCH_LOAD ?? 0);
  if (!Number.isInteger(cores) || cores < 0 || cores > 64) {
    throw new RangeError(
      `BENCH_LOAD must be a whole number of cores (0 to 64), not "${process.env.BENCH_LOAD}"`,
    );
  }
  return cores;
}
