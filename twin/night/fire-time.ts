import { CronError, nextFiring, parseCron } from '../../local/cron.js';

/** A night is a UTC day, `YYYY-MM-DD`, as `etl run --date` takes it. */
const NIGHT_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/**
 * When the schedule fires for a night: its first firing on the morning after (the planners take the window that
 * ends before the fired time), as `etl run --date` fires at 01:00 UTC the morning after. A `rate(...)` expression
 * has no time of day; it is fired at 01:00 UTC, the topology's time, and the caller says so.
 */
export function fireTimeOf(night: string, scheduleExpression: string): { time: Date; fromCron: boolean } {
  if (!NIGHT_PATTERN.test(night)) throw new RangeError(`${night} is not a day (YYYY-MM-DD)`);
  const morning = new Date(`${night}T00:00:00.000Z`);
  if (Number.isNaN(morning.getTime())) throw new RangeError(`${night} is not a day`);
  morning.setUTCDate(morning.getUTCDate() + 1);
  const fallback = { time: new Date(morning.getTime() + 3_600_000), fromCron: false };
  let schedule: ReturnType<typeof parseCron>;
  try {
    schedule = parseCron(scheduleExpression);
  } catch (error) {
    if (error instanceof CronError) return fallback;
    throw error;
  }
  // The first firing at or after midnight: nextFiring looks strictly after its instant.
  const time = nextFiring(schedule, new Date(morning.getTime() - 1));
  if (time === undefined) throw new RangeError(`${scheduleExpression} never fires after ${night}`);
  return { time, fromCron: true };
}
