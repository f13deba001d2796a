import type { DateWindow } from '../../events/index.js';

const DAY_MS = 86_400_000;

function startOfUtcDay(time: Date): Date {
  return new Date(Math.floor(time.getTime() / DAY_MS) * DAY_MS);
}

/** The nightly window: the whole UTC day before the scheduled time, half-open so days never overlap. */
export function nightlyWindow(scheduledTime: Date): DateWindow {
  const to = startOfUtcDay(scheduledTime);
  const from = new Date(to.getTime() - DAY_MS);
  return { from: from.toISOString(), to: to.toISOString(), timeZone: 'UTC' };
}

/** The window of one UTC calendar day, given as YYYY-MM-DD. */
export function dayWindow(day: string): DateWindow {
  const from = parseDay(day);
  return { from: from.toISOString(), to: new Date(from.getTime() + DAY_MS).toISOString(), timeZone: 'UTC' };
}

/** The scheduled time whose nightly window is `day`: 01:00 UTC the next morning. */
export function scheduledTimeForDay(day: string): Date {
  return new Date(parseDay(day).getTime() + DAY_MS + 3_600_000);
}

export function parseDay(day: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  const parsed = match ? new Date(`${day}T00:00:00.000Z`) : undefined;
  if (!parsed || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== day) {
    throw new RangeError(`not a calendar date (YYYY-MM-DD): "${day}"`);
  }
  return parsed;
}

/**
 * The run id is derived from the window alone, so both planners agree on it without talking and re-running
 * a window is the same run: a whole UTC day is named by its date, any other window by its bounds.
 */
export function runIdFor(window: DateWindow): string {
  const from = new Date(window.from);
  const to = new Date(window.to);
  if (from.getTime() % DAY_MS === 0 && to.getTime() - from.getTime() === DAY_MS) {
    return from.toISOString().slice(0, 10);
  }
  const compact = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('.000', '');
  return `${compact(from)}-${compact(to)}`.replace(/[^0-9A-Za-z-]/g, '');
}

/** The UTC date a run is named after, used as `${run_date}` in SQL. */
export function runDate(window: DateWindow): string {
  return window.from.slice(0, 10);
}
