import type { z } from 'zod';
import type { Dataset, DateWindow } from '../../../events/index.js';
import { canonicalRowTexts, fastRowChecks } from '../../shared/row-fast-path.js';
import { columnsOf, rowSchemas } from '../../shared/rows.js';
import type { RowsMapping } from '../../source-config/index.js';
import { splitPath, windowRowFilter } from '../../source-config/index.js';
import { issuesOf } from './http-exchange.js';
import type { CanonicalRows, RowCheck, RowPlacement, RowVerdict } from './page-body-parser.js';
import { IN_WINDOW, OUTSIDE_ASKED, OUTSIDE_WINDOW, valueAt } from './page-body-parser.js';

/** A row check that also counts the top-level fields of the API's rows that no column reads (schema drift). */
export interface RowReader extends RowCheck {
  /** Per field name, how many rows had it; at most MAX_UNMAPPED_NAMES names are kept. */
  unmappedFields(): Record<string, number>;
}

/**
 * `fast`: rows the fast path of services/shared/row-fast-path.ts accepts skip zod, and pages whose rows are written
 * in the canonical form skip JSON.parse (the default); `zod`: every row through its schema, for the tests and the
 * bench that compare the two.
 */
export type RowCheckPath = 'fast' | 'zod';

/** A hostile or very wide API cannot grow the drift count without bound. */
const MAX_UNMAPPED_NAMES = 50;

/**
 * Turns a row as the API sends it into the dataset's canonical row (services/shared/rows.ts), validated by its zod
 * schema: fields renamed as the configuration says, a `timestamp` in seconds or ISO 8601 turned into epoch
 * milliseconds, a `created_at` in epoch seconds or milliseconds into ISO 8601, a missing nullable field read as
 * null when the configuration says the API leaves nulls out. The schema strips fields it does not know, so the lake
 * holds exactly the canonical columns; every canonical column is a string, a number or null, so the rows are flat
 * (RowVerdict). Fields no column reads are counted (unmappedFields): an API that renames or adds a field shows up.
 *
 * With a window, a valid row whose `created_at` is outside it is left out as `outsideWindow`: the API was asked
 * for a window rounded outward to its filters' precision (filterBounds), and the night keeps only its own rows.
 * With `asked` (that window, askedWindow), a row outside even it carries its `created_at` as `outsideAsked`, for the
 * page to fail or count (checks.rowsOutsideWindow).
 */
export function rowReader(
  dataset: Dataset,
  mapping: RowsMapping,
  window?: DateWindow,
  checkPath: RowCheckPath = 'fast',
  asked?: DateWindow,
): RowReader {
  const schema: z.ZodType<{ created_at: string }> = rowSchemas[dataset];
  const fastCheck = checkPath === 'fast' ? fastRowChecks[dataset] : undefined;
  const inWindow = window === undefined ? undefined : windowRowFilter(window);
  const inAsked = asked === undefined ? undefined : windowRowFilter(asked);
  const placement = (createdAt: string): RowPlacement => {
    if (inWindow === undefined || inWindow(createdAt)) return IN_WINDOW;
    return inAsked === undefined || inAsked(createdAt) ? OUTSIDE_WINDOW : OUTSIDE_ASKED;
  };
  const columnNames = columnsOf(dataset);
  const renamed = Object.entries(mapping.fields);
  const convertsTimestamp = dataset === 'sensors' && mapping.timestampFormat !== 'epoch-millis';
  const convertsCreatedAt = mapping.createdAtFormat !== 'iso-8601';
  const shape: Record<string, z.ZodType> = rowSchemas[dataset].shape;
  const nullable = mapping.omittedFieldsAreNull
    ? new Set(columnNames.filter((column) => shape[column]?.safeParse(null).success === true))
    : new Set<string>();
  const mappedFields = new Set(columnNames.map((column) => splitPath(mapping.fields[column] ?? column)[0]));
  const unmapped = new Map<string, number>();
  const countUnmapped = (raw: unknown) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return;
    for (const key in raw) {
      if (mappedFields.has(key)) continue;
      const seen = unmapped.get(key);
      if (seen !== undefined) unmapped.set(key, seen + 1);
      else if (unmapped.size < MAX_UNMAPPED_NAMES) unmapped.set(key, 1);
    }
  };
  const validate = (candidate: unknown): RowVerdict => {
    // The fast path returns what the schema would; when it declines, the schema decides and names the issues.
    let row = fastCheck?.(candidate) as { created_at: string } | undefined;
    if (row === undefined) {
      const parsed = schema.safeParse(candidate);
      if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error, mapping.fields) };
      row = parsed.data;
    }
    const where = placement(row.created_at);
    if (where === OUTSIDE_WINDOW) return { ok: false, outsideWindow: true };
    if (where === OUTSIDE_ASKED) return { ok: false, outsideWindow: true, outsideAsked: row.created_at };
    return { ok: true, row, flat: true };
  };
  const unmappedFields = () => Object.fromEntries(unmapped);
  if (renamed.length === 0 && !convertsTimestamp && !convertsCreatedAt && nullable.size === 0) {
    // The API's rows are the canonical rows themselves: when one has exactly the canonical columns and zod kept
    // every value as it was, its own text can be stored (see RowVerdict). A row written in the canonical form is
    // checked on its text, before it is parsed (canonicalText).
    const text = canonicalRowTexts[dataset];
    const canonicalText: CanonicalRows | undefined =
      checkPath === 'zod'
        ? undefined
        : {
            end: (source, at) => text.end(source, at),
            placement: (source, end) =>
              inWindow === undefined ? IN_WINDOW : placement(text.createdAt(source, end)),
            createdAt: (source, end) => text.createdAt(source, end),
            keys: text.keys,
          };
    return Object.assign(
      (raw: unknown) => {
        countUnmapped(raw);
        const verdict = validate(raw);
        if (verdict.ok && sameRow(raw, verdict.row, columnNames)) verdict.verbatimKeys = columnNames.length;
        return verdict;
      },
      { unmappedFields, canonicalText },
    );
  }

  const columns = Object.keys(rowSchemas[dataset].shape).map((column) => ({
    column,
    path: splitPath(mapping.fields[column] ?? column),
  }));
  return Object.assign(
    (raw: unknown) => {
      countUnmapped(raw);
      const row: Record<string, unknown> = {};
      for (const { column, path } of columns) {
        const value = valueAt(raw, path);
        row[column] = value === undefined && nullable.has(column) ? null : value;
      }
      if (convertsTimestamp) row.timestamp = toEpochMillis(row.timestamp, mapping.timestampFormat);
      if (convertsCreatedAt) row.created_at = toIsoInstant(row.created_at, mapping.createdAtFormat);
      return validate(row);
    },
    { unmappedFields },
  );
}

/** An instant in epoch seconds or milliseconds as ISO 8601; anything else is left as it was, for the schema to name. */
function toIsoInstant(value: unknown, format: RowsMapping['createdAtFormat']): unknown {
  if (typeof value !== 'number' || !Number.isFinite(value)) return value;
  const ms = format === 'epoch-seconds' ? Math.round(value * 1000) : value;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

/** Whether `raw` has exactly the columns as keys, with the values `row` (the validated row) has. */
function sameRow(raw: unknown, row: unknown, columns: readonly string[]): boolean {
  if (typeof raw !== 'object' || raw === null || typeof row !== 'object' || row === null) return false;
  let keys = 0;
  for (const key in raw) {
    keys += 1;
    if (!columns.includes(key) || Reflect.get(raw, key) !== Reflect.get(row, key)) return false;
  }
  return keys === columns.length;
}

/** Converts what can be converted; anything else is left as it was, for the schema to name it. */
function toEpochMillis(value: unknown, format: RowsMapping['timestampFormat']): unknown {
  if (format === 'epoch-seconds' && typeof value === 'number' && Number.isFinite(value)) {
    return Math.round(value * 1000);
  }
  if (format === 'iso-8601' && typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? value : ms;
  }
  return value;
}

/** Canonical paths, with the API's own field name where the configuration renamed it. */
function describeIssues(error: z.ZodError, fields: Readonly<Record<string, string>>): string {
  const text = issuesOf(error);
  const renamed = Object.entries(fields).filter(([column]) => text.includes(`${column}:`));
  return renamed.length === 0
    ? text
    : `${text} (API fields: ${renamed.map(([column, field]) => `${column} = ${field}`).join(', ')})`;
}
