import { existsSync, renameSync } from 'node:fs';
import { WarehouseMigrationError } from '../services/adapters/local/duckdb/bridge-errors.js';
import type { DuckDbQueryEngine } from '../services/adapters/local/duckdb/duckdb-query-engine.js';
import { classifyStatement } from '../services/adapters/local/duckdb/statement-kinds.js';
import type { QueryEngine } from '../services/ports/query-engine.js';
import type { SqlFile } from '../services/ports/sql-source.js';
import { describeError } from '../services/shared/errors.js';
import { renderPlaceholders, splitStatements } from '../services/shared/sql-text.js';

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
  return (await openWarehouseFile(databasePath, open, warn, now)).engine;
}

/** openWarehouse, saying whether the catalog is a new one (the file was missing, or unreadable and moved aside). */
export async function openWarehouseFile(
  databasePath: string,
  open: () => Promise<DuckDbQueryEngine>,
  warn: (line: string) => void,
  now: () => Date = () => new Date(),
): Promise<{ engine: DuckDbQueryEngine; fresh: boolean }> {
  const existed = existsSync(databasePath);
  try {
    return { engine: await open(), fresh: !existed };
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
    return { engine: await open(), fresh: true };
  }
}

/** The statements of SQL files that declare the catalog (databases, tables over lake locations), and nothing else. */
const DECLARATIONS = new Set(['createDatabase', 'createExternalTable']);

/**
 * Declares the tables of `files` again in a new catalog, over the lake where their data is: only the files'
 * `CREATE DATABASE` and `CREATE EXTERNAL TABLE ... IF NOT EXISTS` statements, so nothing is written and no
 * placeholder of a run is needed. What `etl run` does by running its SQL files, without a night (etl sql on a lost
 * warehouse). Returns the tables declared, `database.table`.
 */
export async function declareTablesAgain(
  engine: QueryEngine,
  files: readonly SqlFile[],
  values: Readonly<Record<string, string>>,
): Promise<string[]> {
  const declared: string[] = [];
  for (const file of files) {
    const statements = splitStatements(file.text).filter((statement) =>
      DECLARATIONS.has(classifyStatement(statement)),
    );
    for (const [statementIndex, statement] of statements.entries()) {
      const sql = renderPlaceholders(statement, values);
      await engine.execute(sql, { runId: 'catalog', file: file.name, statementIndex, attempt: 'etl-sql' });
      const table = /^CREATE\s+EXTERNAL\s+TABLE\s+IF\s+NOT\s+EXISTS\s+([\w.]+)/i.exec(sql)?.[1];
      if (table !== undefined) declared.push(table);
    }
  }
  return declared;
}
