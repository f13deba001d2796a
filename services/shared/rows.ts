import * as z from 'zod';
import type { Dataset } from '../../events/index.js';

/** The one form instants are stored in: UTC with milliseconds, so that they also sort correctly as text. */
const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * An ISO 8601 instant with `Z` or an offset, as APIs send them, normalised to the canonical form: the raw
 * tables compare `created_at` as text (a vehicle's latest type, in the SQL files), which only orders one form.
 * `overwrite` rather than `transform`: the same normalisation without a pipe, which costs zod four times as much
 * per row (a page has 50,000). zod runs `overwrite` even after the datetime check failed, so text that is no
 * instant is left as it is (the check's issue names it) instead of throwing from toISOString.
 */
const instant = z.iso.datetime({ offset: true }).overwrite(normaliseInstant);

/** An instant's canonical text (see `instant`); text that is not one is returned as it is. */
export function normaliseInstant(text: string): string {
  if (CANONICAL_INSTANT.test(text)) return text;
  const time = Date.parse(text);
  return Number.isNaN(time) ? text : new Date(time).toISOString();
}

/**
 * A UTF-16 surrogate without its pair: JSON allows the escape (`"\ud800"`), zod's string accepts it, but it is not
 * Unicode text, and the engines refuse it when they write Parquet, failing the whole page instead of this row.
 */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Text an engine can store: 1 to `max` characters, valid Unicode. services/shared/row-fast-path.ts checks the same
 * rules without zod for the rows it can; a change here must be made there too (its property test compares them).
 */
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !LONE_SURROGATE.test(value), 'is not valid Unicode text (a lone surrogate)');

/**
 * A vehicle type is a name, not a document: up to 1,024 characters (code points, as zod counts them; a CJK type of
 * 300 characters passes easily).
 * Any text an engine can store is kept as written; the warehouse partitions by a key of it, never by the text itself
 * (services/shared/lake-keys.ts `partitionKeyOf`, docs/decisions/0089).
 */
export const MAX_VEHICLE_TYPE_LENGTH = 1024;

/** A vehicle as the fleet API lists it; `created_at` is what the API's creation-date filters apply to. */
export const VehicleRowSchema = z.object({
  vehicle_id: text(64),
  vehicle_type: text(MAX_VEHICLE_TYPE_LENGTH),
  created_at: instant,
});
export type VehicleRow = z.infer<typeof VehicleRowSchema>;

/**
 * A sensor reading. `timestamp` is when it was measured (epoch milliseconds), `created_at` when the API
 * recorded it: a reading may be created a day after it was measured, so it is fetched in a later window.
 */
export const SensorRowSchema = z.object({
  vehicle_id: text(64),
  timestamp: z.number().int().min(0),
  sensor_value: z.number().finite().nullable(),
  created_at: instant,
});
export type SensorRow = z.infer<typeof SensorRowSchema>;

export const rowSchemas = {
  vehicles: VehicleRowSchema,
  sensors: SensorRowSchema,
} as const satisfies Record<Dataset, z.ZodType>;

/** The columns of a dataset's rows, in the order they are stored. */
export function columnsOf(dataset: Dataset): string[] {
  return Object.keys(rowSchemas[dataset].shape);
}

/** Rows as NDJSON chunks of about a thousand rows each, the lake's format: one JSON object per line. */
export async function* ndjsonChunks(rows: Iterable<unknown>): AsyncGenerator<Uint8Array> {
  const lines: string[] = [];
  for (const row of rows) {
    lines.push(JSON.stringify(row));
    if (lines.length === 1000) {
      yield Buffer.from(`${lines.join('\n')}\n`);
      lines.length = 0;
    }
  }
  if (lines.length > 0) yield Buffer.from(`${lines.join('\n')}\n`);
}
