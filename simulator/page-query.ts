import * as z from 'zod';

/** The largest page the fleet API serves. */
export const MAX_PAGE_SIZE = 50_000;
const DEFAULT_PAGE_SIZE = 1_000;

const knownTimeZones = new Set<string>();

/** Accepted when Intl knows the zone; the instants carry their own offsets, so the zone changes no result. */
function isKnownTimeZone(timeZone: string): boolean {
  if (knownTimeZones.has(timeZone)) {
    return true;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    return false;
  }
  knownTimeZones.add(timeZone);
  return true;
}

/** Digits only: `Number()` would also accept "1e3", "0x10" and " 5 ". */
function wholeNumber(name: string, max: number) {
  const range = `${name} must be a whole number from 1 to ${max}`;
  return z
    .string()
    .regex(/^[0-9]{1,16}$/, range)
    .transform(Number)
    .pipe(z.number().int(range).min(1, range).max(max, range));
}

const instant = (name: string) =>
  z.iso.datetime({ offset: true, error: `${name} must be an ISO 8601 instant with Z or an offset` });

export const PageQuerySchema = z
  .object({
    fromCreationDate: instant('fromCreationDate'),
    toCreationDate: instant('toCreationDate'),
    timeZone: z
      .string()
      .refine(isKnownTimeZone, 'timeZone must be an IANA time zone name, e.g. UTC or Europe/Madrid')
      .default('UTC'),
    pageSize: wholeNumber('pageSize', MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
    page: wholeNumber('page', Number.MAX_SAFE_INTEGER).default(1),
  })
  .refine((q) => Date.parse(q.fromCreationDate) < Date.parse(q.toCreationDate), {
    path: ['toCreationDate'],
    message: 'toCreationDate must be after fromCreationDate',
  });
export type PageQuery = z.infer<typeof PageQuerySchema>;

export type PageQueryResult =
  | { ok: true; query: PageQuery }
  | { ok: false; error: { error: 'invalid_request'; parameter: string; message: string } };

/** Parses the query string; a failure names the first offending parameter, as the client reports it. */
export function parsePageQuery(search: URLSearchParams): PageQueryResult {
  const raw = {
    fromCreationDate: search.get('fromCreationDate') ?? undefined,
    toCreationDate: search.get('toCreationDate') ?? undefined,
    timeZone: search.get('timeZone') ?? undefined,
    pageSize: search.get('pageSize') ?? undefined,
    page: search.get('page') ?? undefined,
  };
  const parsed = PageQuerySchema.safeParse(raw);
  if (parsed.success) {
    return { ok: true, query: parsed.data };
  }
  const issue = parsed.error.issues[0];
  const parameter = String(issue?.path[0] ?? 'query');
  const message =
    issue?.code === 'invalid_type' ? `${parameter} is required` : (issue?.message ?? 'invalid query');
  return { ok: false, error: { error: 'invalid_request', parameter, message } };
}
