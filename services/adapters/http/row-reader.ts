import type { z } from 'zod';
import type { Dataset, DateWindow } from '../../../events/index.js';
import { columnsOf, rowSchemas } from '../../shared/rows.js';
import type { RowsMapping } from '../../source-config/index.js';
import { splitPath, windowRowFilter } from '../../source-config/index.js';
import { issuesOf } from './http-exchange.js';
import type { RowCheck, RowVerdict } from './page-body-parser.js';
import { valueAt } from './page-body-parser.js';

/**
 * Turns a row as the API sends it into the dataset's canonical row (services/shared/rows.ts), validated by its zod
 * schema: fields renamed as the configuration says, a `timestamp` in seconds or ISO 8601 turned into epoch
 * milliseconds. The schema strips fields it does not know, so the lake holds exactly the canonical columns; every
 * canonical column is a string, a number or null, so the rows are flat (RowVerdict).
 *
 * With a window, a valid row whose `created_at` is outside it is left out as `outsideWindow`: the API was asked
 * for a window rounded outward to its filters' precision (filterBounds), and the night keeps only its own rows.
 */
export function rowReader(dataset: Dataset, mapping: RowsMapping, window?: DateWindow): RowCheck {
  const schema: z.ZodType<{ created_at: string }> = rowSchemas[dataset];
  const inWindow = window === undefined ? undefined : windowRowFilter(window);
  const columnNames = columnsOf(dataset);
  const renamed = Object.entries(mapping.fields);
  const convertsTimestamp = dataset === 'sensors' && mapping.timestampFormat !== 'epoch-millis';
  const validate = (candidate: unknown): RowVerdict => {
    const parsed = schema.safeParse(candidate);
    if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error, mapping.fields) };
    if (inWindow !== undefined && !inWindow(parsed.data.created_at))
      return { ok: false, outsideWindow: true };
    return { ok: true, row: parsed.data, flat: true };
  };
  if (renamed.length === 0 && !convertsTimestamp) {
    // The API's rows are the canonical rows themselves: when one has exactly the canonical columns and zod kept
    // every value as it was, its own text can be stored (see RowVerdict).
    return (raw) => {
      const verdict = validate(raw);
      if (verdict.ok && sameRow(raw, verdict.row, columnNames)) verdict.verbatimKeys = columnNames.length;
      return verdict;
    };
  }

  const columns = Object.keys(rowSchemas[dataset].shape).map((column) => ({
    column,
    path: splitPath(mapping.fields[column] ?? column),
  }));
  return (raw) => {
    const row: Record<string, unknown> = {};
    for (const { column, path } of columns) row[column] = valueAt(raw, path);
    if (convertsTimestamp) row.timestamp = toEpochMillis(row.timestamp, mapping.timestampFormat);
    return validate(row);
  };
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
