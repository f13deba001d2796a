import type { DateWindow } from '../../events/index.js';
import { TerminalError } from '../shared/errors.js';
import { parseDay } from '../shared/run-identity.js';
import type { DateFilter } from './schema.js';

/**
 * Nightly windows are whole calendar days in the configured time zone, half-open ([local midnight, next local
 * midnight)), so consecutive nights tile time exactly: a row created on a boundary belongs to one night only.
 * In UTC they are the windows of services/shared/run-identity.ts.
 */

const DAY_MS = 86_400_000;
const dateFormatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = dateFormatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    dateFormatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Wall-clock fields of an instant in a time zone. */
function wallClock(epochMs: number, timeZone: string): { day: string; msOfDay: number } {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(new Date(epochMs))
      .map((part) => [part.type, part.value]),
  );
  const msOfDay =
    (Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second)) * 1000 +
    (((epochMs % 1000) + 1000) % 1000);
  return { day: `${parts.year}-${parts.month}-${parts.day}`, msOfDay };
}

/** The calendar date (YYYY-MM-DD) an instant falls on in a time zone. */
export function localDay(epochMs: number, timeZone: string): string {
  return wallClock(epochMs, timeZone).day;
}

export function addDays(day: string, days: number): string {
  return new Date(parseDay(day).getTime() + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The first instant of a calendar day in a time zone (local midnight, or the first instant after a DST gap
 * that swallowed it). Found by correcting a UTC guess by the zone's offset, twice, as offsets change at most
 * once a night.
 */
export function startOfDay(day: string, timeZone: string): number {
  const utcMidnight = parseDay(day).getTime();
  let candidate = utcMidnight;
  for (let i = 0; i < 3; i++) {
    const wall = wallClock(candidate, timeZone);
    const wallMs = parseDay(wall.day).getTime() + wall.msOfDay;
    const offset = wallMs - candidate;
    const next = utcMidnight - offset;
    if (next === candidate) break;
    candidate = next;
  }
  // A DST gap at midnight: the day starts at the first instant whose local date is `day`.
  while (localDay(candidate, timeZone) < day) candidate += 15 * 60_000;
  while (localDay(candidate - 1, timeZone) === day) candidate -= 15 * 60_000;
  return candidate;
}

/** The window of one calendar day in a time zone. */
export function windowOfDay(day: string, timeZone: string): DateWindow {
  return {
    from: new Date(startOfDay(day, timeZone)).toISOString(),
    to: new Date(startOfDay(addDays(day, 1), timeZone)).toISOString(),
    timeZone,
  };
}

/** The nightly window of a schedule fired at `time`: the last whole day, in the zone, before that time. */
export function nightlyWindowIn(time: Date, timeZone: string): DateWindow {
  return windowOfDay(addDays(localDay(time.getTime(), timeZone), -1), timeZone);
}

/** A time at which the nightly schedule fetches `day`: 01:00, local time, the next day. */
export function scheduledTimeForDayIn(day: string, timeZone: string): Date {
  return new Date(startOfDay(addDays(day, 1), timeZone) + 3_600_000);
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const first = parseDay(from).getTime();
  const last = parseDay(to).getTime();
  const days: string[] = [];
  for (let t = first; t <= last; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** The values sent for the window's bounds, in the API's format and inclusivity. */
export interface FilterBounds {
  from: string;
  to: string;
}

const UNIT_MS = { 'iso-millis': 1, 'iso-seconds': 1000, 'epoch-millis': 1, 'epoch-seconds': 1000 } as const;

/**
 * Renders a half-open window for the API's filters. An inclusive `to` is sent as `to` minus one unit of the
 * format, an exclusive `from` as `from` minus one unit: the rows selected are exactly those of [from, to). A bound
 * the format cannot express exactly (a window edge inside a second, for a format in whole seconds) is refused
 * rather than rounded, since rounding would lose or repeat rows.
 */
export function filterBounds(window: DateWindow, filter: DateFilter): FilterBounds {
  const fromMs = Date.parse(window.from);
  const toMs = Date.parse(window.to);
  if (filter.format === 'date') {
    const fromDay = exactDay(fromMs, window.timeZone, 'from');
    const toDay = exactDay(toMs, window.timeZone, 'to');
    return {
      from: filter.fromInclusive ? fromDay : addDays(fromDay, -1),
      to: filter.toInclusive ? addDays(toDay, -1) : toDay,
    };
  }
  const unit = UNIT_MS[filter.format];
  for (const [name, ms] of [
    ['from', fromMs],
    ['to', toMs],
  ] as const) {
    if (ms % unit !== 0) {
      throw new TerminalError(
        `window ${name} ${new Date(ms).toISOString()} is not a whole second, which dateFilter.format ${filter.format} cannot express`,
      );
    }
  }
  const render: (ms: number) => string = {
    'iso-millis': (ms: number) => new Date(ms).toISOString(),
    'iso-seconds': (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z'),
    'epoch-millis': (ms: number) => String(ms),
    'epoch-seconds': (ms: number) => String(ms / 1000),
  }[filter.format];
  return {
    from: render(filter.fromInclusive ? fromMs : fromMs - unit),
    to: render(filter.toInclusive ? toMs - unit : toMs),
  };
}

function exactDay(epochMs: number, timeZone: string, name: string): string {
  const day = localDay(epochMs, timeZone);
  if (startOfDay(day, timeZone) !== epochMs) {
    throw new TerminalError(
      `window ${name} ${new Date(epochMs).toISOString()} is not a midnight in ${timeZone}, which dateFilter.format date cannot express`,
    );
  }
  return day;
}
