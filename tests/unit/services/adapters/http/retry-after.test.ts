import { parseHttpDate, parseRetryAfter } from '../../../../../services/adapters/http/retry-after.js';

const now = Date.parse('2026-11-25T01:00:00.000Z');

describe('Retry-After', () => {
  it.each([
    ['0', 0],
    ['1', 1_000],
    [' 120 ', 120_000],
    ['1.5', 1_500],
  ])('reads delta-seconds %j as %i ms', (header, ms) => {
    expect(parseRetryAfter(header, now)).toBe(ms);
  });

  it.each([
    ['Wed, 25 Nov 2026 01:00:07 GMT', 7_000],
    ['Wednesday, 25-Nov-26 01:00:07 GMT', 7_000],
    ['Wed Nov 25 01:00:07 2026', 7_000],
    ['Wed Nov  5 01:00:07 2026', Date.parse('2026-11-05T01:00:07Z') - now],
  ])('reads the HTTP-date %j as a wait of %i ms', (header, ms) => {
    expect(parseRetryAfter(header, now)).toBe(Math.max(0, ms));
  });

  it('treats a date in the past as no wait', () => {
    expect(parseRetryAfter('Tue, 24 Nov 2026 23:00:00 GMT', now)).toBe(0);
  });

  it.each([
    null,
    undefined,
    '',
    '  ',
    'soon',
    '-5',
    '1e3',
    '0x10',
    'Wed, 31 Feb 2026 01:00:00 GMT',
    '25 Nov 2026',
  ])('ignores %j', (header) => {
    expect(parseRetryAfter(header, now)).toBeUndefined();
  });

  it('parses an HTTP-date in UTC, whatever the local time zone', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
  });
});
