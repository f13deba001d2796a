/**
 * `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date, turned into milliseconds to wait from `nowMs`.
 * Returns undefined for a missing or unreadable header; a date in the past means "now" (0).
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  const value = header?.trim() ?? '';
  if (value === '') return undefined;
  // delta-seconds is 1*DIGIT; a decimal is not allowed, but reading it beats ignoring it.
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = parseHttpDate(value);
  return date === undefined ? undefined : Math.max(0, date - nowMs);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_NAME = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY_NAME = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
/** IMF-fixdate, the preferred form: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE = new RegExp(`^${DAY_NAME}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
/** Obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC_850 = new RegExp(`^${LONG_DAY_NAME}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
/** Obsolete asctime: `Sun Nov  6 08:49:37 1994`, in GMT although it does not say so. */
const ASCTIME = new RegExp(`^${DAY_NAME} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/** Epoch ms of an HTTP-date in any of its three forms (recipients must accept all three), or undefined. */
export function parseHttpDate(text: string): number | undefined {
  let day: string | undefined;
  let month: string | undefined;
  let year: number | undefined;
  let time: (string | undefined)[] = [];
  const imf = IMF_FIXDATE.exec(text);
  const rfc850 = RFC_850.exec(text);
  const asctime = ASCTIME.exec(text);
  if (imf) {
    [, day, month] = imf;
    year = Number(imf[3]);
    time = imf.slice(4, 7);
  } else if (rfc850) {
    [, day, month] = rfc850;
    // Two-digit years more than 50 years in the future are in the past (RFC 9110 §5.6.7).
    const yy = Number(rfc850[3]);
    const century = Math.floor(new Date().getUTCFullYear() / 100) * 100;
    year = century + yy > new Date().getUTCFullYear() + 50 ? century - 100 + yy : century + yy;
    time = rfc850.slice(4, 7);
  } else if (asctime) {
    month = asctime[1];
    day = asctime[2]?.trim();
    time = asctime.slice(3, 6);
    year = Number(asctime[6]);
  } else {
    return undefined;
  }
  const [hours, minutes, seconds] = time.map(Number);
  const monthIndex = MONTHS.indexOf(month ?? '');
  if (
    year === undefined ||
    hours === undefined ||
    minutes === undefined ||
    seconds === undefined ||
    hours > 23 ||
    minutes > 59 ||
    seconds > 60
  ) {
    return undefined;
  }
  const epochMs = Date.UTC(year, monthIndex, Number(day), hours, minutes, Math.min(seconds, 59));
  // Date.UTC rolls 31 Feb over to March; a real date round-trips.
  return new Date(epochMs).getUTCDate() === Number(day) ? epochMs : undefined;
}
