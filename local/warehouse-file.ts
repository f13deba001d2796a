import { existsSync, renameSync } from 'node:fs';
import { WarehouseMigrationError } from '../services/adapters/local/duckdb/bridge-errors.js';
import type { DuckDbQueryEngine } from '../services/adapters/local/duckdb/duckdb-query-engine.js';
import { describeError } from '../services/shared/errors.js';

/**
 * What DuckDB says of a file that is not a database it can read: another file's bytes, a file cut short or emptied,
 * a block whose checksum fails.
 */
const UNREADABLE = /not a valid DuckDB database file|corrupt|checksum/i;

/**
 * Opens the local warehouse catalog; one that cannot be read is moved aside (with its write-ahead log) and a new one
 * opened in its place. Nothing is lost by that: the catalog only declares tables whose data is in the lake, and every
 * run's SQL files declare them again (`IF NOT EXISTS`) over the same locations, so the next night sees every
 * earlier one. The old file is kept, named in the warning, for whoever wants to look at it. Called with the state
 * folder held (decision 71): no other process can have the file open.
 */
export async function openWarehouse(
  databasePath: string,
  open: () => Promise<DuckDbQueryEngine>,
  warn: (line: string) => void,
  now: () => Date = () => new Date(),
): Promise<DuckDbQueryEngine> {
  try {
    return await open();
  } catch (error) {
    // A migration's failure can quote a Parquet file's own corruption; the catalog itself was read.
    if (error instanceof WarehouseMigrationError) throw error;
    if (!UNREADABLE.test(describeError(error)) || !existsSync(databasePath)) throw error;
    const aside = `${databasePath}.unreadable-${now().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(databasePath, aside);
    if (existsSync(`${databasePath}.wal`)) renameSync(`${databasePath}.wal`, `${aside}.wal`);
    warn(
      `${databasePath} is not a DuckDB database this version can read (${describeError(error).slice(0, 200)}); ` +
        `moved it to ${aside} and started a new one: this run's SQL files declare the tables again over the lake, ` +
        'where their data is',
    );
    return open();
  }
}
