const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

/**
 * `Date#toISOString` for a stream of nearby instants: the date part is formatted once per UTC day and the time
 * from lookup tables. Formatting is otherwise the largest cost of serving a page of readings.
 */
export class IsoInstantFormatter {
  private dayStart = Number.NaN;
  private datePrefix = '';

  /** `YYYY-MM-DDTHH:mm:ss.sssZ` of a whole number of epoch milliseconds, as `toISOString` would write it. */
  format(epochMs: number): string {
    const dayStart = Math.floor(epochMs / DAY_MS) * DAY_MS;
    if (dayStart !== this.dayStart) {
      this.dayStart = dayStart;
      this.datePrefix = new Date(dayStart).toISOString().slice(0, 11);
    }
    let rest = epochMs - dayStart;
    const millis = rest % 1000;
    rest = (rest - millis) / 1000;
    const seconds = rest % 60;
    rest = (rest - seconds) / 60;
    const minutes = rest % 60;
    const hours = (rest - minutes) / 60;
    return `${this.datePrefix}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis]}Z`;
  }
}
