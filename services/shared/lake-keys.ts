import { createHash } from 'node:crypto';
import type { Dataset } from '../../events/index.js';

/**
 * Raw page keys are derived from validated (dataset, runId, page) only, Hive-style so the raw tables can be
 * partitioned by run: `sensors/run=2026-11-24/page-00001.ndjson`.
 */
export function rawPageKey(dataset: Dataset, runId: string, page: number): string {
  return `${rawRunPrefix(dataset, runId)}page-${String(page).padStart(5, '0')}.ndjson`;
}

export function rawRunPrefix(dataset: Dataset, runId: string): string {
  return `${dataset}/run=${runId}/`;
}

/** Result rows of a named query of a run, as JSON, in the results store. */
export function resultKey(runId: string, queryName: string): string {
  return `results/run=${runId}/${queryName}.json`;
}

/** The report the first EtlDone consumer writes. */
export function reportKey(runId: string): string {
  return `reports/run=${runId}/report.json`;
}

/**
 * The warehouse keeps a value it partitions by (a vehicle type) as a data column, and names the partition folder
 * after this key of it instead (docs/decisions/0089): a folder name must be one the file systems, S3, Hive and the
 * engines all keep as written, and an API may send any text. The key is:
 * - the value itself when it is plainly safe: 1 to 64 of `a-z 0-9 _ -`, not starting with `_`, and not `null`
 *   (DuckDB reads a folder `=null` as NULL). Lower case only, so that two keys never differ by case alone (macOS and
 *   Windows file systems would merge them); nothing any layer escapes, reserves or reads as NULL;
 * - otherwise `_` and the first 32 hex digits (128 bits) of the SHA-256 of its UTF-8 bytes. The `_` keeps the two
 *   forms apart (a safe value never starts with it), and 128 bits make a collision between two real values
 *   unthinkable (about one chance in 10^20 even with a billion types).
 * A pure function of the value, the same on every night and both engines, so late rows land in the partition
 * earlier nights made. The SQL files compute it with `partitionKeySql`; tests hold the two to each other.
 */
export function partitionKeyOf(value: string): string {
  if (isPlainPartitionKey(value)) return value;
  return `_${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, HASHED_KEY_DIGITS)}`;
}

/** The longest value used as its own key; a hashed key is 33 characters. */
const MAX_PLAIN_PARTITION_KEY = 64;
const HASHED_KEY_DIGITS = 32;
const PLAIN_KEY = /^[a-z0-9-][a-z0-9_-]*$/;

function isPlainPartitionKey(value: string): boolean {
  return value.length <= MAX_PLAIN_PARTITION_KEY && PLAIN_KEY.test(value) && value !== 'null';
}

/**
 * `partitionKeyOf` as Athena (Trino) SQL over a varchar column, as queries/20 and 30 spell it. Trino's regexp
 * functions use Joni, whose `$` also matches before a final line break, so safety is tested without anchors: the
 * value is unchanged when every character outside the safe set is removed.
 */
export function partitionKeySql(column: string): string {
  return [
    'CASE',
    `    WHEN length(${column}) BETWEEN 1 AND ${MAX_PLAIN_PARTITION_KEY}`,
    `      AND regexp_replace(${column}, '[^a-z0-9_-]', '') = ${column}`,
    `      AND substr(${column}, 1, 1) <> '_'`,
    `      AND ${column} <> 'null'`,
    `    THEN ${column}`,
    `    ELSE '_' || substr(lower(to_hex(sha256(to_utf8(${column})))), 1, ${HASHED_KEY_DIGITS})`,
    '  END',
  ].join('\n');
}
