import { windowOfDay } from '../services/source-config/index.js';
import { UsageError } from './args.js';

/**
 * Refuses nights whose window has not ended by `now`: the API has not created all of their rows yet, so the run
 * would store an incomplete night and mark it finished, and the nightly schedule would not fetch it again.
 * `--allow-future` is the way past this, for a deliberate look at a night in progress.
 */
export function refuseUnfinishedNights(days: readonly string[], timeZone: string, now: Date): void {
  const unfinished = days
    .map((day) => ({ day, window: windowOfDay(day, timeZone) }))
    .filter(({ window }) => Date.parse(window.to) > now.getTime());
  const first = unfinished[0];
  if (first === undefined) return;
  const { day, window } = first;
  const state =
    Date.parse(window.from) > now.getTime()
      ? `is in the future: it starts at ${window.from}`
      : `is not over yet: it ends at ${window.to}`;
  const others = unfinished.length > 1 ? ` (and ${unfinished.length - 1} later night(s))` : '';
  throw new UsageError(
    `the night ${day} (${timeZone}) ${state}, and it is ${now.toISOString()} now${others}; its data would be ` +
      `incomplete. Run it once it is over, or pass --allow-future to run it anyway.`,
  );
}
