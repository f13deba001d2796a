/**
 * EventBridge schedule expressions in cron form, evaluated in UTC as EventBridge evaluates them
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html):
 * `cron(minutes hours day-of-month month day-of-week year)` with `,` `-` `*` `?` `/`, names (JAN-DEC, SUN-SAT),
 * `L` (last day of the month; `5L` last Thursday), `W` (`15W` nearest weekday) and `#` (`3#2` second Tuesday).
 * Anything else, `rate(...)` included, is refused with CronError naming the field.
 */

export class CronError extends Error {
  override readonly name = 'CronError';
}

type DayOfMonth =
  | { kind: 'any' }
  | { kind: 'set'; days: Set<number> }
  | { kind: 'last' }
  | { kind: 'weekday'; day: number | 'last' };
type DayOfWeek =
  | { kind: 'any' }
  | { kind: 'set'; days: Set<number> }
  | { kind: 'last'; day: number }
  | { kind: 'nth'; day: number; nth: number };

export interface CronSchedule {
  readonly expression: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly dayOfMonth: DayOfMonth;
  readonly months: ReadonlySet<number>;
  readonly dayOfWeek: DayOfWeek;
  readonly years: ReadonlySet<number>;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export function parseCron(expression: string): CronSchedule {
  if (/^rate\(/.test(expression)) {
    throw new CronError(`${expression}: rate expressions have no fixed time; etl schedule needs cron(...)`);
  }
  const match = /^cron\((.*)\)$/.exec(expression.trim());
  const fields = match?.[1]?.trim().split(/\s+/) ?? [];
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields;
  if (
    fields.length !== 6 ||
    minutes === undefined ||
    hours === undefined ||
    dayOfMonth === undefined ||
    month === undefined ||
    dayOfWeek === undefined ||
    year === undefined
  ) {
    throw new CronError(`${expression}: expected cron(minutes hours day-of-month month day-of-week year)`);
  }
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new CronError(`${expression}: exactly one of day-of-month and day-of-week must be "?"`);
  }
  return {
    expression,
    minutes: values(minutes, 0, 59, 'minutes'),
    hours: values(hours, 0, 23, 'hours'),
    dayOfMonth: parseDayOfMonth(dayOfMonth),
    months: values(month, 1, 12, 'month', MONTHS),
    dayOfWeek: parseDayOfWeek(dayOfWeek),
    years: values(year, 1970, 2199, 'year'),
  };
}

function values(
  field: string,
  min: number,
  max: number,
  name: string,
  names: readonly string[] = [],
): Set<number> {
  const result = new Set<number>();
  for (const part of field.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : number(stepText, 1, max - min + 1, name);
    let from: number;
    let to: number;
    if (range === '*') {
      from = min;
      to = max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      from = number(a, min, max, name, names);
      to = number(b, min, max, name, names);
      if (from > to) throw new CronError(`${name} "${field}": a range must go upwards`);
    } else {
      from = number(range, min, max, name, names);
      to = stepText === undefined ? from : max;
    }
    for (let v = from; v <= to; v += step) result.add(v);
  }
  return result;
}

function number(text: string, min: number, max: number, name: string, names: readonly string[] = []): number {
  const named = names.indexOf(text.toUpperCase());
  const value = named >= 0 ? named + min : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new CronError(
      `${name}: "${text}" is not a value from ${min} to ${max}${names.length > 0 ? ` or a name` : ''}`,
    );
  }
  return value;
}

function parseDayOfMonth(field: string): DayOfMonth {
  if (field === '?') return { kind: 'any' };
  if (field === 'L') return { kind: 'last' };
  if (field === 'LW') return { kind: 'weekday', day: 'last' };
  const weekday = /^(\d+)W$/.exec(field);
  if (weekday?.[1] !== undefined) return { kind: 'weekday', day: number(weekday[1], 1, 31, 'day-of-month') };
  return { kind: 'set', days: values(field, 1, 31, 'day-of-month') };
}

function parseDayOfWeek(field: string): DayOfWeek {
  if (field === '?') return { kind: 'any' };
  if (field === 'L') return { kind: 'set', days: new Set([7]) };
  const last = /^(\w+)L$/.exec(field);
  if (last?.[1] !== undefined) return { kind: 'last', day: number(last[1], 1, 7, 'day-of-week', DAYS) };
  const nth = /^(\w+)#(\d)$/.exec(field);
  if (nth?.[1] !== undefined && nth[2] !== undefined) {
    return {
      kind: 'nth',
      day: number(nth[1], 1, 7, 'day-of-week', DAYS),
      nth: number(nth[2], 1, 5, 'day-of-week #'),
    };
  }
  return { kind: 'set', days: values(field, 1, 7, 'day-of-week', DAYS) };
}

const DAY_MS = 86_400_000;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function dayMatches(schedule: CronSchedule, date: Date): boolean {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + 1;
  const day = date.getUTCDate();
  const weekday = date.getUTCDay() + 1; // EventBridge counts SUN=1 .. SAT=7
  if (!schedule.years.has(year) || !schedule.months.has(month)) return false;
  const last = daysInMonth(year, month);
  const dom = schedule.dayOfMonth;
  switch (dom.kind) {
    case 'set':
      return dom.days.has(day);
    case 'last':
      return day === last;
    case 'weekday':
      return day === nearestWeekday(year, month, dom.day === 'last' ? last : dom.day);
    case 'any':
      break;
  }
  const dow = schedule.dayOfWeek;
  switch (dow.kind) {
    case 'set':
      return dow.days.has(weekday);
    case 'last':
      return weekday === dow.day && day + 7 > last;
    case 'nth':
      return weekday === dow.day && Math.ceil(day / 7) === dow.nth;
    case 'any':
      return true;
  }
}

/** The weekday (Mon-Fri) nearest to the given day, without leaving the month (Quartz's `W`). */
function nearestWeekday(year: number, month: number, target: number): number {
  const last = daysInMonth(year, month);
  const day = Math.min(target, last);
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  if (weekday === 6) return day === 1 ? 3 : day - 1;
  if (weekday === 0) return day === last ? day - 2 : day + 1;
  return day;
}

/** The first firing strictly after `after`, or undefined when the expression never fires again. */
export function nextFiring(schedule: CronSchedule, after: Date): Date | undefined {
  const startDay = Math.floor(after.getTime() / DAY_MS);
  const hours = [...schedule.hours].sort((a, b) => a - b);
  const minutes = [...schedule.minutes].sort((a, b) => a - b);
  const lastDay = Date.UTC(2200, 0, 1) / DAY_MS;
  for (let d = startDay; d < lastDay; d += 1) {
    const date = new Date(d * DAY_MS);
    if (!dayMatches(schedule, date)) continue;
    for (const hour of hours) {
      for (const minute of minutes) {
        const time = d * DAY_MS + hour * 3_600_000 + minute * 60_000;
        if (time > after.getTime()) return new Date(time);
      }
    }
  }
  return undefined;
}

/** Every firing in (after, until], oldest first, at most `limit` of them. */
export function firingsBetween(schedule: CronSchedule, after: Date, until: Date, limit = 10_000): Date[] {
  const firings: Date[] = [];
  let cursor = after;
  while (firings.length < limit) {
    const next = nextFiring(schedule, cursor);
    if (next === undefined || next.getTime() > until.getTime()) break;
    firings.push(next);
    cursor = next;
  }
  return firings;
}
