import type { DateWindow } from '../../events/index.js';
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
function startOfDay(day: string, timeZone: string): number {
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

const UNIT_MS = { millis: 1, seconds: 1000 } as const;

/**
 * The API's filter bounds for a half-open window, rounded outward to the filter's precision so that the rows
 * asked for include every row of [from, to), whatever the API does within a unit: compare its whole-second bound
 * with a row's milliseconds, or truncate the row's time first. Rows just outside the window may come too; the
 * source drops them by their own `created_at` (see windowRowFilter), so each row still lands in one night.
 *
 * - whole seconds or milliseconds: an inclusive `from` is the window's start rounded down, an exclusive one a unit
 *   earlier; an inclusive `to` is the window's last millisecond rounded up, an exclusive one its end rounded up.
 *   An inclusive whole-second `to` is therefore the next night's first second, not 23:59:59, which would leave
 *   out every row created in the night's last second (23:59:59.001 to 23:59:59.999).
 * - days: a date selects the rows created on that calendar day (in the window's time zone), so an inclusive `to`
 *   is the day of the window's last millisecond and an exclusive one the day after.
 */
export function filterBounds(window: DateWindow, filter: DateFilter): FilterBounds {
  const bounds = boundInstants(window, filter);
  if (bounds.days !== undefined && filter.format === 'date') return bounds.days;
  return { from: renderInstant(bounds.from, filter.format), to: renderInstant(bounds.to, filter.format) };
}

/**
 * The window the API was asked for, half-open: every instant the bounds filterBounds sends can select, whatever
 * the API does within a unit, so from the `from` bound to the `to` bound, or to the end of its unit when `to` is
 * inclusive (an inclusive whole-second `to` of 00:00:00 selects rows up to 00:00:00.999; an inclusive date, its
 * whole day). For the default filter it is the night itself. A row created outside it was not asked for: the API
 * ignores the date filters, or reads them otherwise (checks.rowsOutsideWindow). Rows inside it but outside the night
 * are the neighbouring nights' rows a coarse filter brings, and are left out (windowRowFilter).
 */
export function askedWindow(window: DateWindow, filter: DateFilter): DateWindow {
  const bounds = boundInstants(window, filter);
  return {
    from: new Date(bounds.from).toISOString(),
    to: new Date(filter.toInclusive ? bounds.afterTo : bounds.to).toISOString(),
    timeZone: window.timeZone,
  };
}

/** The bounds as instants (and as dates, for a filter in days), and the end of the `to` bound's unit. */
function boundInstants(
  window: DateWindow,
  filter: DateFilter,
): { from: number; to: number; afterTo: number; days?: FilterBounds } {
  const fromMs = Date.parse(window.from);
  const lastMs = Date.parse(window.to) - 1;
  if (filter.precision === 'days') {
    const fromDay = localDay(fromMs, window.timeZone);
    const lastDay = localDay(lastMs, window.timeZone);
    const fromBound = filter.fromInclusive ? fromDay : addDays(fromDay, -1);
    const toBound = filter.toInclusive ? lastDay : addDays(lastDay, 1);
    return {
      from: startOfDay(fromBound, window.timeZone),
      to: startOfDay(toBound, window.timeZone),
      afterTo: startOfDay(addDays(toBound, 1), window.timeZone),
      days: { from: fromBound, to: toBound },
    };
  }
  const unit = UNIT_MS[filter.precision];
  const from = Math.floor(fromMs / unit) * unit - (filter.fromInclusive ? 0 : unit);
  const to = Math.ceil((filter.toInclusive ? lastMs : lastMs + 1) / unit) * unit;
  return { from, to, afterTo: to + unit };
}

/** An instant in a format; the precision check (parse-source-config.ts) keeps it a whole unit of the format. */
function renderInstant(ms: number, format: DateFilter['format']): string {
  switch (format) {
    case 'iso-millis':
      return new Date(ms).toISOString();
    case 'iso-seconds':
      return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    case 'epoch-millis':
      return String(ms);
    case 'epoch-seconds':
      return String(Math.floor(ms / 1000));
    case 'date':
      return new Date(ms).toISOString().slice(0, 10);
  }
}

/**
 * Keeps a row when its `created_at` (canonical ISO 8601 in UTC with milliseconds, as services/shared/rows.ts
 * normalises it) falls in the half-open window: the API was asked for a wider window (filterBounds), and this is
 * what makes each row belong to one night only. Canonical instants sort as text, so no date is parsed per row.
 */
export function windowRowFilter(window: DateWindow): (createdAt: string) => boolean {
  const from = new Date(Date.parse(window.from)).toISOString();
  const to = new Date(Date.parse(window.to)).toISOString();
  return (createdAt) => createdAt >= from && createdAt < to;
}
