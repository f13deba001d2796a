/**
 * The Athena-to-DuckDB bridge: one Athena (Trino or Hive DDL) statement in, a plan for the local engine out.
 * Translation is pure; the engine carries plans out against DuckDB, its catalog and the file system.
 *
 * | Athena                                             | Local plan                                       |
 * |----------------------------------------------------|--------------------------------------------------|
 * | CREATE DATABASE / SCHEMA [IF NOT EXISTS] db        | CREATE SCHEMA [IF NOT EXISTS] db                 |
 * | CREATE EXTERNAL TABLE ... JsonSerDe / PARQUET      | catalog entry + view over read_json/read_parquet |
 * |   (a Parquet one is written by INSERT INTO, with   |   (codec recorded in the catalog entry)          |
 * |   its TBLPROPERTIES 'parquet.compression')         |                                                  |
 * | CREATE TABLE ... WITH (...) AS query [WITH NO DATA]| catalog entry + view (+ COPY ... PARTITION_BY)   |
 * | INSERT INTO table [(columns)] query                | COPY (query) TO location (Parquet, run-named)    |
 * | DROP TABLE [IF EXISTS]                             | drop catalog entry and view; files stay, as S3's |
 * | CREATE [OR REPLACE] VIEW / DROP VIEW               | the same DuckDB statement, query transpiled      |
 * | MSCK REPAIR TABLE                                  | nothing: partitions are read from folder names   |
 * | SELECT / WITH / VALUES / TABLE                     | the transpiled query, returning rows             |
 */
import { UnsupportedStatementError } from './bridge-errors.js';
import { type CreateTableAsPlan, parseCreateTableAs } from './ctas-ddl.js';
import { type CreateExternalTablePlan, parseCreateExternalTable } from './external-table-ddl.js';
import { qualified, quoteIdentifier, type TableName } from './sql-literals.js';
import { isKeyword, TokenCursor } from './sql-tokens.js';
import { classifyStatement, type StatementKind } from './statement-kinds.js';
import { trinoQueryToDuckDb } from './trino-dialect.js';

/** A statement DuckDB runs as is: schema and view DDL. */
export interface DuckDbDdlPlan {
  kind: 'ddl';
  sql: string;
}

export interface NoopPlan {
  kind: 'noop';
  reason: string;
}

export interface QueryPlan {
  kind: 'query';
  sql: string;
}

export interface InsertPlan {
  kind: 'insert';
  table: TableName;
  /** The target columns named by `INSERT INTO t (a, b)`; undefined means all, in table order. */
  columns: string[] | undefined;
  query: string;
}

export interface DropTablePlan {
  kind: 'dropTable';
  table: TableName;
  ifExists: boolean;
}

export type BridgePlan =
  | DuckDbDdlPlan
  | NoopPlan
  | QueryPlan
  | CreateExternalTablePlan
  | CreateTableAsPlan
  | InsertPlan
  | DropTablePlan;

export type { CreateExternalTablePlan, CreateTableAsPlan };

const TRANSLATORS: Readonly<Record<StatementKind, (cursor: TokenCursor) => BridgePlan>> = {
  createDatabase: (cursor) => {
    cursor.expectKeywords('CREATE');
    if (!cursor.acceptKeywords('DATABASE')) {
      cursor.expectKeywords('SCHEMA');
    }
    const ifNotExists = cursor.acceptKeywords('IF', 'NOT', 'EXISTS');
    // COMMENT, LOCATION and DBPROPERTIES mean nothing to a DuckDB schema.
    const name = cursor.expectName('database name');
    return {
      kind: 'ddl',
      sql: `CREATE SCHEMA ${ifNotExists ? 'IF NOT EXISTS ' : ''}${quoteIdentifier(name)}`,
    };
  },
  createExternalTable: (cursor) => {
    cursor.expectKeywords('CREATE', 'EXTERNAL', 'TABLE');
    const ifNotExists = cursor.acceptKeywords('IF', 'NOT', 'EXISTS');
    return parseCreateExternalTable(cursor, tableName(cursor), ifNotExists);
  },
  createTableAs: (cursor) => {
    cursor.expectKeywords('CREATE', 'TABLE');
    const ifNotExists = cursor.acceptKeywords('IF', 'NOT', 'EXISTS');
    return parseCreateTableAs(cursor, tableName(cursor), ifNotExists);
  },
  insert: (cursor) => {
    cursor.expectKeywords('INSERT', 'INTO');
    const table = tableName(cursor);
    const columns = startsColumnList(cursor)
      ? cursor.parenthesisedItems().map(([token]) => {
          if (token?.kind !== 'word' && token?.kind !== 'quoted') {
            return cursor.fail('expected a column name');
          }
          return token.value.toLowerCase();
        })
      : undefined;
    return { kind: 'insert', table, columns, query: trinoQueryToDuckDb(cursor.rest()) };
  },
  dropTable: (cursor) => {
    cursor.expectKeywords('DROP', 'TABLE');
    const ifExists = cursor.acceptKeywords('IF', 'EXISTS');
    const table = tableName(cursor);
    expectEnd(cursor);
    return { kind: 'dropTable', table, ifExists };
  },
  createView: (cursor) => {
    cursor.expectKeywords('CREATE');
    const orReplace = cursor.acceptKeywords('OR', 'REPLACE');
    cursor.expectKeywords('VIEW');
    const view = tableName(cursor);
    cursor.expectKeywords('AS');
    const create = orReplace ? 'CREATE OR REPLACE VIEW' : 'CREATE VIEW';
    return { kind: 'ddl', sql: `${create} ${qualified(view)} AS ${trinoQueryToDuckDb(cursor.rest())}` };
  },
  dropView: (cursor) => {
    cursor.expectKeywords('DROP', 'VIEW');
    const ifExists = cursor.acceptKeywords('IF', 'EXISTS');
    const view = tableName(cursor);
    expectEnd(cursor);
    return { kind: 'ddl', sql: `DROP VIEW ${ifExists ? 'IF EXISTS ' : ''}${qualified(view)}` };
  },
  repairPartitions: () => ({
    kind: 'noop',
    reason: 'partitions are discovered from Hive-style folder names',
  }),
  query: (cursor) => ({ kind: 'query', sql: trinoQueryToDuckDb(cursor.rest()) }),
};

/** Translates one Athena statement (without a trailing semicolon) into a plan for the local engine. */
export function translateStatement(sql: string): BridgePlan {
  return TRANSLATORS[classifyStatement(sql)](TokenCursor.of(sql));
}

/**
 * `database.table`. Athena falls back to the query's context database for a bare name; the local engine has
 * no such context, so the SQL files always qualify names with `${database}`.
 */
function tableName(cursor: TokenCursor): TableName {
  const first = cursor.expectName('table name');
  if (!cursor.acceptSymbol('.')) {
    return cursor.fail(`qualify table ${first} with its database (\${database}.${first})`);
  }
  const name = cursor.expectName('table name');
  if (cursor.acceptSymbol('.')) {
    return cursor.fail('catalog-qualified names are not supported locally');
  }
  return { schema: first, name };
}

/** `INSERT INTO t (a, b) SELECT ...` names columns; `INSERT INTO t (SELECT ...)` is a parenthesised query. */
function startsColumnList(cursor: TokenCursor): boolean {
  const open = cursor.peek();
  const next = cursor.peek(1);
  const queryStarts = ['SELECT', 'WITH', 'VALUES', 'TABLE'].some((keyword) => isKeyword(next, keyword));
  return open?.kind === 'symbol' && open.value === '(' && !queryStarts && next?.value !== '(';
}

function expectEnd(cursor: TokenCursor): void {
  if (!cursor.done) {
    throw new UnsupportedStatementError(`unexpected text after the statement: ${cursor.rest()}`);
  }
}
