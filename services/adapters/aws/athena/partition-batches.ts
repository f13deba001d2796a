import { TerminalError } from '../../../shared/errors.js';
import type { RawResults } from './results.js';
import type { InsertShape } from './write-target.js';

/**
 * Athena writes at most 100 partitions per CTAS or INSERT INTO (HIVE_TOO_MANY_OPEN_PARTITIONS); its own
 * advice is a series of INSERT INTO statements of up to 100 partitions each
 * (https://docs.aws.amazon.com/athena/latest/ug/ctas-insert-into.html). This module writes that series for
 * one INSERT: a query for the partitions the INSERT would write, then one INSERT per batch of them, each the
 * original query filtered to its batch. The query's columns are renamed c0, c1, ... by position, the way
 * INSERT matches them to the table's, so the filter never depends on the query's own column names.
 */
const MAX_PARTITIONS_PER_WRITE = 100;

const SOURCE = '_fleet_source';

function sourceColumns(count: number): string {
  return Array.from({ length: count }, (_, index) => `"c${index}"`).join(', ');
}

/** Where each partition column of the table sits among the INSERT's target columns. */
export function partitionPositions(
  insert: InsertShape,
  tableColumns: readonly string[],
  partitionKeys: readonly string[],
): { targets: string[]; positions: number[] } {
  const targets = insert.columns ?? [...tableColumns];
  const positions = partitionKeys.map((key) => targets.indexOf(key));
  const missing = partitionKeys.filter((_, index) => positions[index] === -1);
  if (missing.length > 0) {
    throw new TerminalError(
      `cannot split INSERT INTO ${insert.table} by partition: it does not name partition column(s) ${missing.join(', ')}`,
    );
  }
  return { targets, positions };
}

/** The distinct partition values the INSERT's query produces. */
export function partitionsQuery(
  insert: InsertShape,
  targetCount: number,
  positions: readonly number[],
): string {
  const selected = positions.map((position) => `"c${position}"`).join(', ');
  return `SELECT DISTINCT ${selected}\nFROM (\n${insert.query}\n) AS ${SOURCE} (${sourceColumns(targetCount)})`;
}

/** Athena type names as its result metadata gives them: `varchar`, `date`, `decimal(10,2)`, ... */
const TYPE_NAME = /^[a-z][a-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?$/;

/**
 * One INSERT per batch of at most MAX_PARTITIONS_PER_WRITE partitions. Batches are built from the values
 * sorted, so a redelivery that asks again builds the same statements (and the same ClientRequestTokens).
 * Values go back into SQL as `CAST('text' AS type)`, the text escaped as a Trino string literal; a NULL
 * partition value (Hive's default partition) is matched with IS NULL.
 */
export function batchInserts(
  insert: InsertShape,
  targetCount: number,
  positions: readonly number[],
  partitions: RawResults,
): string[] {
  const types = partitions.columns.map((column) => column.Type.toLowerCase());
  for (const type of types) {
    if (!TYPE_NAME.test(type))
      throw new TerminalError(`cannot split INSERT by partition values of type ${type}`);
  }
  const tuples = [...partitions.rows].sort(compareTuples);
  const statements: string[] = [];
  for (let start = 0; start < tuples.length; start += MAX_PARTITIONS_PER_WRITE) {
    const batch = tuples.slice(start, start + MAX_PARTITIONS_PER_WRITE);
    const filter = batch
      .map((tuple) => {
        const terms = positions.map((position, index) => {
          const value = tuple[index];
          const column = `${SOURCE}."c${position}"`;
          return value === undefined
            ? `${column} IS NULL`
            : `${column} = CAST('${value.replaceAll("'", "''")}' AS ${types[index]})`;
        });
        return `(${terms.join(' AND ')})`;
      })
      .join('\n   OR ');
    statements.push(
      `${insert.head}\nSELECT ${SOURCE}.*\nFROM (\n${insert.query}\n) AS ${SOURCE} (${sourceColumns(targetCount)})\nWHERE ${filter}`,
    );
  }
  return statements;
}

function compareTuples(a: readonly (string | undefined)[], b: readonly (string | undefined)[]): number {
  for (let index = 0; index < Math.max(a.length, b.length); index += 1) {
    const x = a[index] ?? '';
    const y = b[index] ?? '';
    if (x !== y) return x < y ? -1 : 1;
    if (a[index] === undefined && b[index] !== undefined) return -1;
    if (a[index] !== undefined && b[index] === undefined) return 1;
  }
  return 0;
}
