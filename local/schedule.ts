import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import type { Clock } from '../services/ports/clock.js';
import { describeError, systemErrorCode } from '../services/shared/errors.js';
import { type CronSchedule, firingsBetween, nextFiring, parseCron } from './cron.js';

/**
 * `etl schedule` without the process around it: fires a cron expression's firings, each once, and remembers the
 * last one in `<state-dir>/schedule.json` so that a restart, or a machine waking from sleep, neither repeats a
 * firing nor skips one silently. Firings missed while the scheduler was not running are caught up oldest first,
 * up to `maxCatchUp` of them; older ones are skipped and named, with the command that runs them
 * (docs/decisions/0041-the-schedule-catches-up.md).
 */

export interface FiringOutcome {
  status: 'succeeded' | 'failed';
  /** One line for the log: the run's failure reasons, say. */
  detail?: string;
}

export interface SchedulerOptions {
  stateDir: string;
  expression: string;
  clock: Clock;
  /** Waits up to `ms`; returns early when the signal aborts. Injected so tests drive time. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Runs one firing: the night whose window ends before `scheduledTime`. */
  fire: (scheduledTime: Date) => Promise<FiringOutcome>;
  report: (line: string) => void;
  /** Missed firings run on start or on waking, newest ones kept; 0 runs none of them (they are reported). */
  maxCatchUp: number;
  /** Stop once nothing is due instead of waiting for the next firing (for cron or systemd timers). */
  once?: boolean;
  signal?: AbortSignal;
  /**
   * The longest single wait. Timers run on a monotonic clock that stops while a machine sleeps, so the wall clock
   * is looked at again at least this often, and a firing passed during sleep is seen within this delay.
   */
  maxWaitMs?: number;
  /** How late a firing may start and still count as on time (not reported as missed). */
  lateAfterMs?: number;
  /** Days to run for skipped firings, in the message: `etl run --from A --to B`. */
  nightOf: (scheduledTime: Date) => string;
}

const HistoryEntrySchema = z.object({
  scheduled: z.iso.datetime(),
  status: z.enum(['succeeded', 'failed', 'skipped']),
  at: z.iso.datetime(),
});

export const ScheduleStateSchema = z.object({
  expression: z.string(),
  /** When the schedule was first started in this folder: firings before it are not owed. */
  since: z.iso.datetime(),
  /** The scheduled time of the last firing that ran (or was skipped on purpose). */
  lastFired: z.iso.datetime().optional(),
  /** The latest firings, newest last, for `cat schedule.json` and tests. */
  history: z.array(HistoryEntrySchema).default([]),
});
export type ScheduleState = z.infer<typeof ScheduleStateSchema>;

const HISTORY = 60;

export function scheduleFiles(stateDir: string) {
  return { state: path.join(stateDir, 'schedule.json'), lock: path.join(stateDir, 'schedule.lock') };
}

export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

export function readScheduleState(stateDir: string): ScheduleState | undefined {
  const file = scheduleFiles(stateDir).state;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = ScheduleStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new ScheduleError(
      `${file} is not a schedule state: ${z.prettifyError(parsed.error)}; fix or delete it`,
    );
  }
  return parsed.data;
}

function writeState(stateDir: string, state: ScheduleState): void {
  const file = scheduleFiles(stateDir).state;
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, file);
}

/** Runs the schedule until the signal aborts (or, with `once`, until nothing is due). */
export async function runSchedule(options: SchedulerOptions): Promise<ScheduleState> {
  const schedule = parseCron(options.expression);
  mkdirSync(options.stateDir, { recursive: true });
  const release = takeLock(options.stateDir, options.report);
  try {
    return await loop(schedule, options);
  } finally {
    release();
  }
}

async function loop(schedule: CronSchedule, options: SchedulerOptions): Promise<ScheduleState> {
  const { report, clock } = options;
  let state = startState(schedule, options);
  const maxWait = options.maxWaitMs ?? 60_000;
  const lateAfter = options.lateAfterMs ?? 5 * 60_000;
  while (!options.signal?.aborted) {
    const now = clock.now();
    const anchor = new Date(state.lastFired ?? state.since);
    const due = firingsBetween(schedule, anchor, now);
    if (due.length > 0) {
      const late = due.filter((t) => now.getTime() - t.getTime() > lateAfter);
      const onTime = due.filter((t) => !late.includes(t));
      const keep = options.maxCatchUp > 0 ? late.slice(-options.maxCatchUp) : [];
      const skipped = late.slice(0, late.length - keep.length);
      if (late.length > 0) {
        report(
          `${late.length} firing(s) of ${schedule.expression} were missed while the scheduler was not running ` +
            `or the machine slept (${describeSpan(late)})`,
        );
      }
      if (skipped.length > 0) {
        const first = options.nightOf(skipped[0] ?? now);
        const last = options.nightOf(skipped.at(-1) ?? now);
        report(
          `skipping ${skipped.length} of them, over the catch-up limit of ${options.maxCatchUp}: nights ` +
            `${first}${first === last ? '' : ` to ${last}`} were NOT run; run them with ` +
            `\`etl run ${first === last ? `--date ${first}` : `--from ${first} --to ${last}`}\``,
        );
        const at = clock.now().toISOString();
        state = record(
          state,
          skipped.map((t) => ({ scheduled: t.toISOString(), status: 'skipped' as const, at })),
        );
        writeState(options.stateDir, state);
      }
      for (const scheduled of [...keep, ...onTime]) {
        if (options.signal?.aborted) break;
        const lateBy = clock.now().getTime() - scheduled.getTime();
        report(
          `firing ${scheduled.toISOString()} (night ${options.nightOf(scheduled)})` +
            (lateBy > lateAfter ? `, ${describeDuration(lateBy)} late: catching up` : ''),
        );
        const outcome = await fireSafely(options, scheduled);
        report(
          `night ${options.nightOf(scheduled)} ${outcome.status}` +
            (outcome.detail ? `: ${outcome.detail}` : '') +
            (outcome.status === 'failed'
              ? `; \`etl run --date ${options.nightOf(scheduled)}\` resumes it (the schedule moves on, as EventBridge's does)`
              : ''),
        );
        state = record(state, [
          { scheduled: scheduled.toISOString(), status: outcome.status, at: clock.now().toISOString() },
        ]);
        writeState(options.stateDir, state);
      }
      continue;
    }
    const next = nextFiring(schedule, anchor.getTime() > now.getTime() ? anchor : now);
    if (next === undefined) {
      report(`${schedule.expression} never fires again: stopping`);
      break;
    }
    if (options.once) {
      report(`nothing due; next firing ${next.toISOString()}`);
      break;
    }
    const wait = next.getTime() - now.getTime();
    if (wait > maxWait) {
      await options.sleep(maxWait, options.signal);
    } else {
      report(`next firing ${next.toISOString()} (night ${options.nightOf(next)})`);
      await options.sleep(Math.max(0, wait), options.signal);
    }
  }
  return state;
}

function startState(schedule: CronSchedule, options: SchedulerOptions): ScheduleState {
  const previous = readScheduleState(options.stateDir);
  const now = options.clock.now();
  if (previous === undefined) {
    const state: ScheduleState = { expression: schedule.expression, since: now.toISOString(), history: [] };
    writeState(options.stateDir, state);
    const next = nextFiring(schedule, now);
    options.report(
      `schedule ${schedule.expression} (UTC) started in ${options.stateDir}; first firing ` +
        `${next?.toISOString() ?? 'never'}. Earlier nights are not run: \`etl run --from ... --to ...\` backfills them`,
    );
    return state;
  }
  if (previous.expression !== schedule.expression) {
    options.report(
      `the schedule changed from ${previous.expression} to ${schedule.expression}; ` +
        `firings after ${previous.lastFired ?? previous.since} follow the new one`,
    );
  }
  options.report(
    `schedule ${schedule.expression} (UTC) resumed in ${options.stateDir}; last firing ` +
      `${previous.lastFired ?? 'none yet'}`,
  );
  return { ...previous, expression: schedule.expression };
}

async function fireSafely(options: SchedulerOptions, scheduled: Date): Promise<FiringOutcome> {
  try {
    return await options.fire(scheduled);
  } catch (error) {
    return { status: 'failed', detail: describeError(error) };
  }
}

function record(state: ScheduleState, entries: ScheduleState['history']): ScheduleState {
  const last = entries.at(-1);
  return {
    ...state,
    ...(last === undefined ? {} : { lastFired: last.scheduled }),
    history: [...state.history, ...entries].slice(-HISTORY),
  };
}

/**
 * One scheduler per state folder: a second one would fire every night twice. The lock file holds the owner's
 * pid; a lock whose process is gone (killed, machine restarted) is taken over, and said so.
 */
function takeLock(stateDir: string, report: (line: string) => void): () => void {
  const { lock } = scheduleFiles(stateDir);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if (systemErrorCode(error) !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new ScheduleError(
          `another etl schedule (pid ${owner}) already runs the schedule of ${stateDir}`,
        );
      }
      report(`taking over ${lock}: its process (${owner}) is gone`);
      rmSync(lock, { force: true });
    }
  }
  throw new ScheduleError(`could not lock ${lock}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return systemErrorCode(error) === 'EPERM';
  }
}

function describeSpan(firings: readonly Date[]): string {
  const first = firings[0]?.toISOString() ?? '';
  const last = firings.at(-1)?.toISOString() ?? '';
  return firings.length === 1 ? first : `${first} to ${last}`;
}

function describeDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}
