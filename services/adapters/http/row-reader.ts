import type { z } from 'zod';
import type { Dataset } from '../../../events/index.js';
import { rowSchemas } from '../../shared/rows.js';
import type { RowsMapping } from '../../source-config/index.js';
import { splitPath } from '../../source-config/index.js';
import { issuesOf } from './http-exchange.js';
import type { RowCheck } from './page-body-parser.js';
import { valueAt } from './page-body-parser.js';

/**
 * Turns a row as the API sends it into the dataset's canonical row (services/shared/rows.ts), validated by its zod
 * schema: fields renamed as the configuration says, a `timestamp` in seconds or ISO 8601 turned into epoch
 * milliseconds. The schema strips fields it does not know, so the lake holds exactly the canonical columns; every
 * canonical column is a string, a number or null, so the rows are flat (RowVerdict).
 */
export function rowReader(dataset: Dataset, mapping: RowsMapping): RowCheck {
  const schema: z.ZodType = rowSchemas[dataset];
  const renamed = Object.entries(mapping.fields);
  const convertsTimestamp = dataset === 'sensors' && mapping.timestampFormat !== 'epoch-millis';
  const validate = (candidate: unknown) => {
    const parsed = schema.safeParse(candidate);
    return parsed.success
      ? { ok: true as const, row: parsed.data, flat: true }
      : { ok: false as const, reason: describeIssues(parsed.error, mapping.fields) };
  };
  if (renamed.length === 0 && !convertsTimestamp) return validate;

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
