import * as z from 'zod';
import { parseDay } from '../services/shared/run-identity.js';

/**
 * An instant given on the command line: a UTC day (`2026-11-24`, its midnight) or an ISO 8601 time with a zone
 * (`2026-11-24T06:00:00Z`, `2026-11-24T07:00+01:00`). A time without a zone is refused rather than read in the
 * machine's zone.
 */
export const instantFlag = z
  .string()
  .refine(
    (text) =>
      /^\d{4}-\d{2}-\d{2}$/.test(text) ||
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text),
    'expected a day YYYY-MM-DD (UTC) or a time with its zone, e.g. 2026-11-24T06:00:00Z',
  )
  .transform((text) => new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00.000Z` : text))
  .refine((date) => !Number.isNaN(date.getTime()), 'not a real date');

/** A calendar day `YYYY-MM-DD` that exists (`2026-02-30` is refused). */
export const calendarDayFlag = z.string().refine((day) => {
  try {
    parseDay(day);
    return true;
  } catch {
    return false;
  }
}, 'expected a calendar date YYYY-MM-DD');
