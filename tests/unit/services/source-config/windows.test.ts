import { nightlyWindow } from '../../../../services/shared/run-identity.js';
import {
  askedWindow,
  DEFAULT_DATE_FILTER,
  daysBetween,
  filterBounds,
  nightlyWindowIn,
  scheduledTimeForDayIn,
  windowOfDay,
  windowRowFilter,
} from '../../../../services/source-config/index.js';

describe('nightly windows', () => {
  it('are the UTC windows of run-identity in UTC', () => {
    for (const time of [
      '2026-11-25T01:00:00.000Z',
      '2026-11-25T00:00:00.000Z',
      '2026-11-25T23:59:59.999Z',
      '2024-03-01T01:00:00Z',
    ]) {
      expect(nightlyWindowIn(new Date(time), 'UTC')).toEqual(nightlyWindow(new Date(time)));
    }
  });

  it('are whole local days in another zone, 23 or 25 hours long across daylight saving time', () => {
    expect(windowOfDay('2026-03-08', 'America/New_York')).toEqual({
      from: '2026-03-08T05:00:00.000Z',
      to: '2026-03-09T04:00:00.000Z',
      timeZone: 'America/New_York',
    });
    expect(windowOfDay('2026-11-01', 'America/New_York')).toEqual({
      from: '2026-11-01T04:00:00.000Z',
      to: '2026-11-02T05:00:00.000Z',
      timeZone: 'America/New_York',
    });
    expect(windowOfDay('2026-06-15', 'Asia/Kolkata').from).toBe('2026-06-14T18:30:00.000Z');
  });

  it('tile time: each night starts where the previous one ended, so no row is fetched twice or never', () => {
    for (const zone of [
      'UTC',
      'Europe/Madrid',
      'America/New_York',
      'Australia/Lord_Howe',
      'America/Havana',
    ]) {
      const days = daysBetween('2026-01-01', '2026-12-31');
      const windows = days.map((day) => nightlyWindowIn(scheduledTimeForDayIn(day, zone), zone));
      windows.forEach((w, i) => {
        expect(Date.parse(w.from)).toBeLessThan(Date.parse(w.to));
        const next = windows[i + 1];
        if (next) expect(next.from).toBe(w.to);
      });
      expect(windows.map((w) => w.from)).toEqual(days.map((day) => windowOfDay(day, zone).from));
    }
  });

  it('lists the nights of a backfill, both ends included', () => {
    expect(daysBetween('2026-02-27', '2026-03-02')).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
      '2026-03-02',
    ]);
    expect(daysBetween('2026-03-02', '2026-03-02')).toEqual(['2026-03-02']);
  });
});

describe('date filter bounds', () => {
  const day = windowOfDay('2026-11-24', 'UTC');

  it.each([
    [
      { format: 'iso-millis', precision: 'millis', fromInclusive: true, toInclusive: false },
      '2026-11-24T00:00:00.000Z',
      '2026-11-25T00:00:00.000Z',
    ],
    [
      { format: 'iso-millis', precision: 'millis', fromInclusive: true, toInclusive: true },
      '2026-11-24T00:00:00.000Z',
      '2026-11-24T23:59:59.999Z',
    ],
    [
      { format: 'iso-seconds', precision: 'seconds', fromInclusive: false, toInclusive: false },
      '2026-11-23T23:59:59Z',
      '2026-11-25T00:00:00Z',
    ],
    [
      { format: 'epoch-millis', precision: 'millis', fromInclusive: true, toInclusive: true },
      '1795478400000',
      '1795564799999',
    ],
    [
      { format: 'epoch-seconds', precision: 'seconds', fromInclusive: true, toInclusive: false },
      '1795478400',
      '1795564800',
    ],
    [
      { format: 'date', precision: 'days', fromInclusive: true, toInclusive: true },
      '2026-11-24',
      '2026-11-24',
    ],
    [
      { format: 'date', precision: 'days', fromInclusive: true, toInclusive: false },
      '2026-11-24',
      '2026-11-25',
    ],
    [
      { format: 'date', precision: 'days', fromInclusive: false, toInclusive: true },
      '2026-11-23',
      '2026-11-24',
    ],
  ] as const)('select exactly [from, to) with %j', (filter, from, to) => {
    expect(filterBounds(day, filter)).toEqual({ from, to });
  });

  // Until the issue "no row lost at midnight", an inclusive whole-second `to` was sent as 23:59:59, and an API
  // comparing that with millisecond `created_at` left out the night's last second (23:59:59.001 to .999).
  it.each([
    [
      { format: 'iso-seconds', precision: 'seconds', fromInclusive: true, toInclusive: true },
      '2026-11-24T00:00:00Z',
      '2026-11-25T00:00:00Z',
    ],
    [
      { format: 'epoch-seconds', precision: 'seconds', fromInclusive: true, toInclusive: true },
      '1795478400',
      '1795564800',
    ],
    [
      { format: 'iso-millis', precision: 'seconds', fromInclusive: true, toInclusive: true },
      '2026-11-24T00:00:00.000Z',
      '2026-11-25T00:00:00.000Z',
    ],
    [
      { format: 'iso-seconds', precision: 'days', fromInclusive: true, toInclusive: true },
      '2026-11-24T00:00:00Z',
      '2026-11-24T00:00:00Z',
    ],
  ] as const)('cover the whole night, rounded outward, with %j', (filter, from, to) => {
    expect(filterBounds(day, filter)).toEqual({ from, to });
  });

  it('send local dates for a window in another zone', () => {
    expect(
      filterBounds(windowOfDay('2026-03-08', 'America/New_York'), {
        format: 'date',
        precision: 'days',
        fromInclusive: true,
        toInclusive: true,
      }),
    ).toEqual({
      from: '2026-03-08',
      to: '2026-03-08',
    });
  });

  it('round bounds the precision cannot express outward, never inward', () => {
    const odd = { from: '2026-11-24T00:00:00.500Z', to: '2026-11-25T00:00:00.250Z', timeZone: 'UTC' };
    expect(
      filterBounds(odd, {
        format: 'iso-seconds',
        precision: 'seconds',
        fromInclusive: true,
        toInclusive: false,
      }),
    ).toEqual({ from: '2026-11-24T00:00:00Z', to: '2026-11-25T00:00:01Z' });
    expect(
      filterBounds(odd, { format: 'date', precision: 'days', fromInclusive: true, toInclusive: false }),
    ).toEqual({ from: '2026-11-24', to: '2026-11-26' });
  });
});

describe('the window row filter', () => {
  const keep = windowRowFilter(windowOfDay('2026-11-24', 'UTC'));

  it('keeps exactly the rows created in the half-open night', () => {
    expect(keep('2026-11-23T23:59:59.999Z')).toBe(false);
    expect(keep('2026-11-24T00:00:00.000Z')).toBe(true);
    expect(keep('2026-11-24T23:59:59.999Z')).toBe(true);
    expect(keep('2026-11-25T00:00:00.000Z')).toBe(false);
  });
});

describe('the window asked for', () => {
  const night = windowOfDay('2026-11-24', 'UTC');

  it('is the night itself for the default filter (milliseconds, from inclusive, to exclusive)', () => {
    expect(askedWindow(night, DEFAULT_DATE_FILTER)).toEqual(night);
  });

  it('holds every instant the bounds sent can select: an inclusive `to` selects its whole unit', () => {
    const seconds = {
      format: 'iso-seconds',
      precision: 'seconds',
      fromInclusive: true,
      toInclusive: true,
    } as const;
    expect(askedWindow(night, seconds)).toEqual({ ...night, to: '2026-11-25T00:00:01.000Z' });
    const dates = { format: 'date', precision: 'days', fromInclusive: true, toInclusive: true } as const;
    expect(askedWindow(night, dates)).toEqual(night);
    expect(askedWindow(night, { ...dates, toInclusive: false })).toEqual(night);
    expect(askedWindow(night, { ...dates, fromInclusive: false })).toEqual({
      ...night,
      from: '2026-11-23T00:00:00.000Z',
    });
  });

  it('is made of local days in the window’s zone', () => {
    const madrid = windowOfDay('2026-11-24', 'Europe/Madrid');
    expect(
      askedWindow(madrid, { format: 'date', precision: 'days', fromInclusive: true, toInclusive: true }),
    ).toEqual({
      from: '2026-11-23T23:00:00.000Z',
      to: '2026-11-24T23:00:00.000Z',
      timeZone: 'Europe/Madrid',
    });
  });
});
