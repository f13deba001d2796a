import { CronError, firingsBetween, nextFiring, parseCron } from '../../../local/cron.js';
import { topology } from '../../../services/topology.js';

const next = (expression: string, after: string) =>
  nextFiring(parseCron(expression), new Date(after))?.toISOString();

describe('EventBridge cron expressions', () => {
  it.each([
    [
      'the topology\u2019s nightly schedule',
      topology.services.planner.trigger.expression,
      '2026-11-24T12:00:00Z',
      '2026-11-25T01:00:00.000Z',
    ],
    [
      'strictly after the given time',
      'cron(0 1 * * ? *)',
      '2026-11-25T01:00:00Z',
      '2026-11-26T01:00:00.000Z',
    ],
    ['every 15 minutes', 'cron(0/15 * * * ? *)', '2026-11-25T01:07:00Z', '2026-11-25T01:15:00.000Z'],
    [
      'weekdays at 10:00 (names)',
      'cron(0 10 ? * MON-FRI *)',
      '2026-11-27T10:00:00Z',
      '2026-11-30T10:00:00.000Z',
    ],
    [
      'weekdays at 10:00 (numbers: SUN=1)',
      'cron(0 10 ? * 2-6 *)',
      '2026-11-28T00:00:00Z',
      '2026-11-30T10:00:00.000Z',
    ],
    ['the last day of the month', 'cron(0 18 L * ? *)', '2026-02-01T00:00:00Z', '2026-02-28T18:00:00.000Z'],
    [
      'the last Friday of the month',
      'cron(0 8 ? * 6L *)',
      '2026-11-01T00:00:00Z',
      '2026-11-27T08:00:00.000Z',
    ],
    ['the second Tuesday', 'cron(0 8 ? * 3#2 *)', '2026-11-01T00:00:00Z', '2026-11-10T08:00:00.000Z'],
    [
      'the weekday nearest the 1st (a Sunday)',
      'cron(0 8 1W * ? *)',
      '2026-11-01T00:00:00Z',
      '2026-11-02T08:00:00.000Z',
    ],
    [
      'the weekday nearest the 15th (a Sunday)',
      'cron(0 8 15W * ? *)',
      '2026-11-01T00:00:00Z',
      '2026-11-16T08:00:00.000Z',
    ],
    [
      'months by name and a list of hours',
      'cron(30 6,18 1 JAN,JUL ? *)',
      '2026-11-25T00:00:00Z',
      '2027-01-01T06:30:00.000Z',
    ],
    ['a year range', 'cron(0 0 1 1 ? 2030-2031)', '2026-11-25T00:00:00Z', '2030-01-01T00:00:00.000Z'],
  ])('%s: %s', (_what, expression, after, expected) => {
    expect(next(expression, after)).toBe(expected);
  });

  it('never fires for an impossible day, and stops at 2199', () => {
    expect(next('cron(0 0 30 2 ? *)', '2026-01-01T00:00:00Z')).toBeUndefined();
    expect(next('cron(0 0 1 1 ? 2027)', '2027-06-01T00:00:00Z')).toBeUndefined();
  });

  it('lists the firings in a span, oldest first', () => {
    const firings = firingsBetween(
      parseCron('cron(0 1 * * ? *)'),
      new Date('2026-11-25T01:00:00Z'),
      new Date('2026-11-28T09:00:00Z'),
    );
    expect(firings.map((f) => f.toISOString())).toEqual([
      '2026-11-26T01:00:00.000Z',
      '2026-11-27T01:00:00.000Z',
      '2026-11-28T01:00:00.000Z',
    ]);
  });

  it.each([
    ['rate(1 day)', /rate expressions have no fixed time/],
    ['0 1 * * ? *', /expected cron\(/],
    ['cron(0 1 * * *)', /expected cron\(/],
    ['cron(0 1 * * * *)', /exactly one of day-of-month and day-of-week must be "\?"/],
    ['cron(0 1 ? * ? *)', /exactly one of/],
    ['cron(60 1 * * ? *)', /minutes: "60" is not a value from 0 to 59/],
    ['cron(0 1 * FOO ? *)', /month: "FOO"/],
    ['cron(0 1 ? * 8 *)', /day-of-week: "8"/],
    ['cron(0 5-1 * * ? *)', /a range must go upwards/],
  ])('refuses %s, saying why', (expression, message) => {
    expect(() => parseCron(expression)).toThrow(CronError);
    expect(() => parseCron(expression)).toThrow(message);
  });
});
