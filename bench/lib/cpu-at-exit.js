// Preloaded into a process the benches measure (`node --import bench/lib/cpu-at-exit.js ...`): at exit, appends
// the whole process's CPU time (every thread's, from getrusage) and peak memory to the file BENCH_CPU_FILE names, one
// JSON line per process. Plain JavaScript, so that it costs the measured process nothing to load.
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.BENCH_CPU_FILE;
if (isMainThread && file) {
  process.once('exit', () => {
    const usage = process.resourceUsage();
    appendFileSync(
      file,
      `${JSON.stringify({
        pid: process.pid,
        argv: process.argv.slice(1).join(' '),
        userSeconds: usage.userCPUTime / 1e6,
        systemSeconds: usage.systemCPUTime / 1e6,
        maxRssBytes: usage.maxRSS * 1024,
      })}\n`,
    );
  });
}
