import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type FiringOutcome,
  readScheduleState,
  runSchedule,
  ScheduleError,
  scheduleFiles,
} from '../../../local/schedule.js';
import { topology } from '../../../services/topology.js';

const EXPRESSION = topology.services.planner.trigger.expression;
const DAY_MS = 86_400_000;

/**
 * A machine's time, driven by the test: sleeping advances it, and `stopAt` ends the scheduler at a given
 * moment, as a person pressing Ctrl-C would. `suspend` makes the next sleep overrun, as a laptop lid does.
 */
function fakeTime(start: string) {
  let now = Date.parse(start);
  let stopAt = Number.POSITIVE_INFINITY;
  let overrunMs = 0;
  let controller = new AbortController();
  return {
    clock: { now: () => new Date(now) },
    sleep: async (ms: number) => {
      now = Math.min(now + ms + overrunMs, Math.max(now, stopAt));
      overrunMs = 0;
      if (now >= stopAt) controller.abort();
    },
    runUntil(iso: string) {
      stopAt = Date.parse(iso);
      controller = new AbortController();
      return controller.signal;
    },
    suspend(ms: number) {
      overrunMs = ms;
    },
    set(iso: string) {
      now = Date.parse(iso);
    },
  };
}

const nightOf = (scheduled: Date) => new Date(scheduled.getTime() - DAY_MS).toISOString().slice(0, 10);

function scheduler(
  stateDir: string,
  time: ReturnType<typeof fakeTime>,
  options: { maxCatchUp?: number; outcome?: FiringOutcome } = {},
) {
  const fired: string[] = [];
  const lines: string[] = [];
  const start = (until: string, once = false) =>
    runSchedule({
      stateDir,
      expression: EXPRESSION,
      clock: time.clock,
      sleep: time.sleep,
      fire: async (scheduled) => {
        fired.push(nightOf(scheduled));
        return options.outcome ?? { status: 'succeeded' };
      },
      report: (line) => lines.push(line),
      maxCatchUp: options.maxCatchUp ?? 7,
      nightOf,
      once,
      signal: time.runUntil(until),
    });
  return { fired, lines, start };
}

const folder = () => mkdtempSync(path.join(tmpdir(), 'schedule-'));

describe('etl schedule', () => {
  it('runs exactly one run per night across two nights and a restart', async () => {
    // Prepare: started in the afternoon of the 24th.
    const stateDir = folder();
    const time = fakeTime('2026-11-24T15:00:00Z');
    const first = scheduler(stateDir, time);

    // Act: the first process runs until noon on the 25th, then stops; a second one runs to the 27th at 00:30.
    await first.start('2026-11-25T12:00:00Z');
    const second = scheduler(stateDir, time);
    await second.start('2026-11-27T00:30:00Z');

    // Assess
    expect(first.fired).toEqual(['2026-11-24']);
    expect(second.fired).toEqual(['2026-11-25']);
    expect(second.lines.join('\n')).not.toMatch(/missed/);
    expect(readScheduleState(stateDir)?.history.map((h) => `${h.scheduled} ${h.status}`)).toEqual([
      '2026-11-25T01:00:00.000Z succeeded',
      '2026-11-26T01:00:00.000Z succeeded',
    ]);
  });

  it('does not run nights from before it was first started', async () => {
    const time = fakeTime('2026-11-24T15:00:00Z');
    const { fired, lines, start } = scheduler(folder(), time);
    await start('2026-11-24T23:00:00Z');
    expect(fired).toEqual([]);
    expect(lines[0]).toMatch(/first firing 2026-11-25T01:00:00.000Z\. Earlier nights are not run/);
  });

  it('catches up the nights missed while it was stopped, oldest first, saying so', async () => {
    const stateDir = folder();
    const time = fakeTime('2026-11-24T15:00:00Z');
    await scheduler(stateDir, time).start('2026-11-25T02:00:00Z');

    time.set('2026-11-28T09:00:00Z');
    const after = scheduler(stateDir, time);
    await after.start('2026-11-28T09:30:00Z');

    expect(after.fired).toEqual(['2026-11-25', '2026-11-26', '2026-11-27']);
    expect(after.lines.join('\n')).toMatch(/3 firing\(s\) of cron\(0 1 \* \* \? \*\) were missed/);
    expect(after.lines.join('\n')).toMatch(
      /firing 2026-11-26T01:00:00.000Z \(night 2026-11-25\), 2 days late: catching up/,
    );
  });

  it('skips, and names, missed nights beyond the catch-up limit', async () => {
    const stateDir = folder();
    const time = fakeTime('2026-11-24T15:00:00Z');
    await scheduler(stateDir, time).start('2026-11-25T02:00:00Z');

    time.set('2026-12-01T09:00:00Z');
    const after = scheduler(stateDir, time, { maxCatchUp: 2 });
    await after.start('2026-12-01T09:30:00Z');

    expect(after.fired).toEqual(['2026-11-29', '2026-11-30']);
    expect(after.lines.join('\n')).toMatch(
      /skipping 4 of them, over the catch-up limit of 2: nights 2026-11-25 to 2026-11-28 were NOT run; run them with `etl run --from 2026-11-25 --to 2026-11-28`/,
    );
    expect(readScheduleState(stateDir)?.history.filter((h) => h.status === 'skipped')).toHaveLength(4);
  });

  it('fires what passed while the machine slept, late and said so', async () => {
    const stateDir = folder();
    const time = fakeTime('2026-11-24T15:00:00Z');
    const run = scheduler(stateDir, time);
    time.suspend(2 * DAY_MS); // the first wait overruns by two days
    await run.start('2026-11-27T00:30:00Z');
    expect(run.fired).toEqual(['2026-11-24', '2026-11-25']);
    expect(run.lines.join('\n')).toMatch(
      /were missed while the scheduler was not running or the machine slept/,
    );
  });

  it('moves on after a failed night, saying how to resume it', async () => {
    const stateDir = folder();
    const time = fakeTime('2026-11-24T15:00:00Z');
    const run = scheduler(stateDir, time, { outcome: { status: 'failed', detail: 'planner: 503' } });
    await run.start('2026-11-26T02:00:00Z');
    expect(run.fired).toEqual(['2026-11-24', '2026-11-25']);
    expect(run.lines.join('\n')).toMatch(
      /night 2026-11-24 failed: planner: 503; `etl run --date 2026-11-24` resumes it/,
    );
  });

  it('with --once, runs what is due and stops', async () => {
    const stateDir = folder();
    const time = fakeTime('2026-11-24T15:00:00Z');
    await scheduler(stateDir, time).start('2026-11-24T16:00:00Z');
    time.set('2026-11-26T03:00:00Z');
    const once = scheduler(stateDir, time);
    await once.start('2030-01-01T00:00:00Z', true);
    expect(once.fired).toEqual(['2026-11-24', '2026-11-25']);
    expect(once.lines.at(-1)).toBe('nothing due; next firing 2026-11-27T01:00:00.000Z');
  });

  it('refuses to run twice on one folder', async () => {
    const stateDir = folder();
    writeFileSync(scheduleFiles(stateDir).lock, `${process.pid}\n`);
    const time = fakeTime('2026-11-24T15:00:00Z');
    await expect(scheduler(stateDir, time).start('2026-11-24T16:00:00Z')).rejects.toThrow(ScheduleError);
  });

  it('takes over the lock of a process that is gone', async () => {
    const stateDir = folder();
    writeFileSync(scheduleFiles(stateDir).lock, '2147483646\n');
    const time = fakeTime('2026-11-24T15:00:00Z');
    const run = scheduler(stateDir, time);
    await run.start('2026-11-24T16:00:00Z');
    expect(run.lines[0]).toMatch(/taking over .*schedule\.lock: its process \(2147483646\) is gone/);
  });
});
