import { spawn } from 'node:child_process';
import { setTimeout as wait } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { relativeToCwd } from '../local/run-pipeline.js';
import { stateLayout } from '../local/runtime.js';
import { type FiringOutcome, runSchedule } from '../local/schedule.js';
import { systemClock } from '../services/ports/clock.js';
import { addDays, loadSourceConfig, localDay } from '../services/source-config/index.js';
import { topology } from '../services/topology.js';
import { type ParsedFlags, parseFlags } from './command-spec.js';
import { scheduleSpec } from './schedule-spec.js';

/** `etl run`'s exit code when another process kept the state folder past --wait (main.ts). */
const STATE_FOLDER_BUSY = 2;

const ETL = fileURLToPath(new URL('../bin/etl.js', import.meta.url));

type ScheduleFlags = ParsedFlags<(typeof scheduleSpec)['flags']>;

/**
 * `etl schedule`: the nightly schedule on one machine. It fires the topology's schedule expression (the one the
 * CDK app deploys) at its UTC times, and each firing runs that night exactly as `etl run --date <night>` does,
 * in a child process, so a night that crashes does not take the scheduler with it and every night starts clean.
 */
export async function scheduleCommand(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(scheduleSpec, argv);
  // Nights are calendar days in the API's zone (UTC for the built-in simulator), as the planner sees them.
  const timeZone =
    flags.source === undefined ? 'UTC' : (await loadSourceConfig(flags.source)).window.timeZone;
  const nightOf = (scheduled: Date) => addDays(localDay(scheduled.getTime(), timeZone), -1);
  const stop = new AbortController();
  const onSignal = () => {
    process.stderr.write('etl schedule: stopping (a night in progress finishes first)\n');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  let failures = 0;
  try {
    await runSchedule({
      stateDir: stateLayout(flags['state-dir']).root,
      expression: topology.services.planner.trigger.expression,
      clock: systemClock,
      sleep: sleepUnlessAborted,
      fire: async (scheduled) => {
        const outcome = await runNight(nightOf(scheduled), flags);
        if (outcome.status === 'failed') failures += 1;
        return outcome;
      },
      report: log,
      maxCatchUp: flags['catch-up'],
      once: flags.once,
      signal: stop.signal,
      nightOf,
    });
    log(`schedule state in ${relativeToCwd(stateLayout(flags['state-dir']).root)}/schedule.json`);
    // With --once (under cron or a systemd timer) a failed night fails the invocation, so the timer reports it.
    return flags.once && failures > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await wait(ms, undefined, signal === undefined ? {} : { signal });
  } catch (error) {
    if (!signal?.aborted) throw error;
  }
}

/** One night, as `etl run --date <night>` runs it, with the flags that shape the run passed on. */
export function runNight(
  night: string,
  flags: Pick<ScheduleFlags, 'state-dir' | 'source' | 'page-size' | 'vehicles' | 'readings' | 'seed'> &
    Partial<Pick<ScheduleFlags, 'wait'>>,
  stdio: 'inherit' | 'ignore' = 'inherit',
): Promise<FiringOutcome> {
  const args = [ETL, 'run', '--date', night, '--state-dir', flags['state-dir']];
  for (const flag of ['source', 'page-size', 'vehicles', 'readings', 'seed', 'wait'] as const) {
    const value = flags[flag];
    if (value !== undefined) args.push(`--${flag}`, String(value));
  }
  return new Promise((resolve) => {
    // The night's own output goes where the scheduler's goes; SIGINT reaches it through the process group.
    const child = spawn(process.execPath, args, { stdio: ['ignore', stdio, stdio] });
    child.once('error', (error) =>
      resolve({ status: 'failed', detail: `could not start etl run: ${error.message}` }),
    );
    child.once('exit', (code, signal) =>
      resolve(
        code === 0
          ? { status: 'succeeded' }
          : {
              status: 'failed',
              detail:
                signal !== null
                  ? `etl run stopped by ${signal}`
                  : code === STATE_FOLDER_BUSY
                    ? `etl run exited with ${code}: the state folder stayed in use by another process (named above)`
                    : `etl run exited with ${code}`,
            },
      ),
    );
  });
}
