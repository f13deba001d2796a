/**
 * The scheduler with real nights: each firing runs `etl run --date <night>` in a child process against the
 * built-in simulator, while the test drives the clock across two nights and a restart of the scheduler.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runNight } from '../../../cli/schedule-command.js';
import { readArchive, runIdOf } from '../../../local/archive.js';
import { stateLayout } from '../../../local/runtime.js';
import { readScheduleState, runSchedule } from '../../../local/schedule.js';
import { topology } from '../../../services/topology.js';

const SLOW = 180_000;
const FLEET = { vehicles: 12, readings: 40, seed: 3 } as const;

function drivenClock(start: string) {
  let now = Date.parse(start);
  return {
    clock: { now: () => new Date(now) },
    /** Sleeping moves time on; reaching `until` stops the scheduler, as Ctrl-C would. */
    sleepUntil(until: string, controller: AbortController) {
      return async (ms: number) => {
        now = Math.min(now + ms, Date.parse(until));
        if (now >= Date.parse(until)) controller.abort();
      };
    },
  };
}

describe('etl schedule driving real nights', () => {
  it(
    'runs each night exactly once across two nights and a restart',
    async () => {
      // Prepare
      const stateDir = mkdtempSync(path.join(tmpdir(), 'schedule-nights-'));
      const time = drivenClock('2026-11-24T18:00:00Z');
      const nights: string[] = [];
      const start = (until: string) => {
        const controller = new AbortController();
        return runSchedule({
          stateDir,
          expression: topology.services.planner.trigger.expression,
          clock: time.clock,
          sleep: time.sleepUntil(until, controller),
          fire: async (scheduled) => {
            const night = new Date(scheduled.getTime() - 86_400_000).toISOString().slice(0, 10);
            nights.push(night);
            return runNight(night, { 'state-dir': stateDir, ...FLEET }, 'ignore');
          },
          report: () => {},
          maxCatchUp: 7,
          nightOf: (scheduled) => new Date(scheduled.getTime() - 86_400_000).toISOString().slice(0, 10),
          signal: controller.signal,
        });
      };

      // Act: one scheduler until the morning of the 25th, then a new one (a restart) until the 26th at noon.
      await start('2026-11-25T08:00:00Z');
      await start('2026-11-26T12:00:00Z');

      // Assess: one firing per night, each a complete run, and nothing run twice.
      expect(nights).toEqual(['2026-11-24', '2026-11-25']);
      const events = readArchive(stateLayout(stateDir).archive).events;
      const done = events.filter((e) => e['detail-type'] === 'EtlDone').map(runIdOf);
      expect(done).toEqual(['2026-11-24', '2026-11-25']);
      const planned = events
        .filter((e) => e['detail-type'] === 'PagesPlanned')
        .map(runIdOf)
        .sort();
      expect(planned).toEqual(['2026-11-24', '2026-11-24', '2026-11-25', '2026-11-25']);
      expect(readScheduleState(stateDir)?.history.map((h) => h.status)).toEqual(['succeeded', 'succeeded']);
    },
    SLOW,
  );
});
