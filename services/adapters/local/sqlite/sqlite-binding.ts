import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/** A value SQLite stores; both bindings take these as parameters and return them in rows. */
export type SqlValue = string | number | bigint | null | Uint8Array;

export interface SqlStatement {
  run(...params: SqlValue[]): { changes: number };
  /** The first row, or undefined; rows are plain objects whose shape the caller parses (zod). */
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
}

/**
 * The little of SQLite the local state store uses, the same whichever binding runs it: Node's built-in
 * `node:sqlite` where it exists (Node 22.13 and later), better-sqlite3 on Node 20
 * (docs/decisions/0072-sqlite-binding-per-node-version.md).
 */
export interface SqliteConnection {
  /** Which binding opened it: shown by tests and diagnostics, never branched on by callers. */
  readonly binding: SqliteBindingName;
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  /** Runs `work` in one transaction (a savepoint when nested): committed if it returns, rolled back if it throws. */
  transaction<T>(work: () => T): T;
  close(): void;
}

export type SqliteBindingName = 'node:sqlite' | 'better-sqlite3';

const require = createRequire(import.meta.url);

interface NodeSqliteModule {
  DatabaseSync: new (file: string) => NodeSqliteDatabase;
}
interface NodeSqliteDatabase {
  readonly isTransaction: boolean;
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  close(): void;
}

/**
 * `node:sqlite`, or undefined where Node has none (20) or only behind a flag (22.5-22.12). Node 22 announces it
 * with an ExperimentalWarning on every load; that warning would be the first line of every `etl` command, so it
 * alone is held back (the little of its API used here is the same on 22 and 24, and tests run on both).
 */
function loadNodeSqlite(): NodeSqliteModule | undefined {
  const emitWarning = process.emitWarning;
  const forward = emitWarning.bind(process) as (warning: string | Error, ...rest: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (!/SQLite is an experimental feature/.test(text)) forward(warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return process.getBuiltinModule?.('node:sqlite') as NodeSqliteModule | undefined;
  } catch {
    return undefined;
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** Which binding `openSqlite` uses on this Node.js. */
export function sqliteBindingName(): SqliteBindingName {
  return loadNodeSqlite() === undefined ? 'better-sqlite3' : 'node:sqlite';
}

export function openSqlite(file: string): SqliteConnection {
  const nodeSqlite = loadNodeSqlite();
  return nodeSqlite === undefined ? openBetterSqlite3(file) : openNodeSqlite(nodeSqlite, file);
}

function openNodeSqlite(module: NodeSqliteModule, file: string): SqliteConnection {
  const db = new module.DatabaseSync(file);
  let savepoints = 0;
  return {
    binding: 'node:sqlite',
    exec: (sql) => db.exec(sql),
    prepare: (sql) => db.prepare(sql),
    // node:sqlite has no transaction helper: this one behaves as better-sqlite3's (deferred BEGIN, savepoints
    // when nested), so both bindings lock and roll back the same way.
    transaction<T>(work: () => T): T {
      const nested = db.isTransaction;
      const savepoint = `fleet_etl_${++savepoints}`;
      db.exec(nested ? `SAVEPOINT ${savepoint}` : 'BEGIN');
      try {
        const result = work();
        db.exec(nested ? `RELEASE ${savepoint}` : 'COMMIT');
        return result;
      } catch (error) {
        if (db.isTransaction) db.exec(nested ? `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}` : 'ROLLBACK');
        throw error;
      }
    },
    close: () => db.close(),
  };
}

/**
 * better-sqlite3's addon is built at install only where `node:sqlite` is missing (bin/install-sqlite-binding.js,
 * npm's postinstall), so Node 22 and 24 install with no C++ toolchain.
 */
function openBetterSqlite3(file: string): SqliteConnection {
  let Database: typeof BetterSqlite3;
  try {
    Database = require('better-sqlite3');
  } catch (error) {
    throw new Error(
      `This Node.js (${process.version}) has no node:sqlite, and the better-sqlite3 addon that replaces it did not ` +
        'load: run `npm run postinstall` to build it (a C++ toolchain is needed), or use Node.js 22.13 or later',
      { cause: error },
    );
  }
  const db = new Database(file);
  return {
    binding: 'better-sqlite3',
    exec: (sql) => void db.exec(sql),
    prepare: (sql) => {
      const statement = db.prepare<SqlValue[]>(sql);
      return {
        run: (...params) => ({ changes: statement.run(...params).changes }),
        get: (...params) => statement.get(...params),
        all: (...params) => statement.all(...params),
      };
    },
    transaction: <T>(work: () => T): T => db.transaction(work)(),
    close: () => void db.close(),
  };
}
