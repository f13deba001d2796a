import { isKeyword, type Token, TokenCursor } from '../../services/adapters/local/duckdb/sql-tokens.js';
import type { StatementKind } from '../../services/adapters/local/duckdb/statement-kinds.js';
import type { AthenaGrammar } from './sql-grammars.js';

/**
 * What the twin reads from a statement's text itself, with the bridge's tokenizer: which grammar Athena parses it
 * with, a CTAS's table properties, TBLPROPERTIES, a CREATE DATABASE's name. Everything else is the bridge's.
 */

/** Hive's DDL (https://docs.aws.amazon.com/athena/latest/ug/ddl-reference.html); the rest is Trino's. */
const HIVE_STATEMENTS: readonly (readonly string[])[] = [
  ['CREATE', 'DATABASE'],
  ['CREATE', 'SCHEMA'],
  ['CREATE', 'EXTERNAL', 'TABLE'],
  ['DROP', 'TABLE'],
  ['DROP', 'DATABASE'],
  ['DROP', 'SCHEMA'],
  ['ALTER'],
  ['MSCK'],
  ['SHOW'],
  ['DESCRIBE'],
];

export function grammarOf(sql: string): AthenaGrammar {
  const cursor = TokenCursor.of(sql);
  return HIVE_STATEMENTS.some((keywords) => cursor.atKeywords(...keywords)) ? 'hive' : 'trino';
}

/** The statement after `CREATE ... TABLE [IF NOT EXISTS] name`, or undefined when it is not that shape. */
function afterTableName(sql: string, lead: readonly string[]): TokenCursor | undefined {
  const cursor = TokenCursor.of(sql);
  if (!cursor.acceptKeywords(...lead)) return undefined;
  cursor.acceptKeywords('IF', 'NOT', 'EXISTS');
  const first = cursor.peek();
  if (first?.kind !== 'word' && first?.kind !== 'quoted') return undefined;
  cursor.next();
  while (cursor.acceptSymbol('.')) cursor.next();
  return cursor;
}

/** The names of a CTAS's `WITH (name = value, ...)` properties, lower-cased. */
export function ctasPropertyNames(sql: string): string[] {
  const cursor = afterTableName(sql, ['CREATE', 'TABLE']);
  if (cursor === undefined || !cursor.atKeywords('WITH')) return [];
  cursor.expectKeywords('WITH');
  return cursor
    .parenthesisedItems()
    .flatMap(([name]) => (name === undefined ? [] : [name.value.toLowerCase()]));
}

/**
 * The CTAS with `external_location` set to where Athena puts a table created without one: the query result
 * location's `tables/<query-id>/` (https://docs.aws.amazon.com/athena/latest/ug/ctas-considerations-limitations.html).
 * The bridge writes only where a CTAS says.
 */
export function withExternalLocation(sql: string, location: string): string {
  const cursor = afterTableName(sql, ['CREATE', 'TABLE']);
  const next = cursor?.peek();
  if (cursor === undefined || next === undefined) return sql;
  const property = `external_location = '${location.replaceAll("'", "''")}'`;
  if (isKeyword(next, 'WITH') && cursor.peek(1)?.value === '(') {
    const open = cursor.peek(1) as Token;
    return `${sql.slice(0, open.end)}${property}, ${sql.slice(open.end)}`;
  }
  return `${sql.slice(0, next.start)}WITH (${property}) ${sql.slice(next.start)}`;
}

/** TBLPROPERTIES ('key' = 'value', ...) of a CREATE EXTERNAL TABLE (partition projection lives there). */
export function tableProperties(sql: string): Record<string, string> {
  const cursor = TokenCursor.of(sql);
  while (!cursor.done && !cursor.atKeywords('TBLPROPERTIES')) cursor.next();
  if (cursor.done) return {};
  cursor.expectKeywords('TBLPROPERTIES');
  return Object.fromEntries(
    cursor
      .parenthesisedItems()
      .flatMap(([key, equals, value]) =>
        key?.kind === 'string' && equals?.value === '=' && value?.kind === 'string'
          ? [[key.value, value.value]]
          : [],
      ),
  );
}

/** `CREATE DATABASE|SCHEMA [IF NOT EXISTS] name`. */
export function createDatabaseOf(sql: string): { name: string; ifNotExists: boolean } {
  const cursor = TokenCursor.of(sql);
  cursor.expectKeywords('CREATE');
  if (!cursor.acceptKeywords('DATABASE')) cursor.expectKeywords('SCHEMA');
  const ifNotExists = cursor.acceptKeywords('IF', 'NOT', 'EXISTS');
  return { name: cursor.expectName('database name'), ifNotExists };
}

/** How GetQueryExecution reports each kind of statement (StatementType and SubstatementType). */
export const STATEMENT_TYPES: Readonly<
  Record<StatementKind, { statementType: 'DDL' | 'DML' | 'UTILITY'; substatementType: string }>
> = {
  createDatabase: { statementType: 'DDL', substatementType: 'CREATE_DATABASE' },
  createExternalTable: { statementType: 'DDL', substatementType: 'CREATE_TABLE' },
  createTableAs: { statementType: 'DDL', substatementType: 'CREATE_TABLE_AS_SELECT' },
  insert: { statementType: 'DML', substatementType: 'INSERT' },
  dropTable: { statementType: 'DDL', substatementType: 'DROP_TABLE' },
  createView: { statementType: 'DDL', substatementType: 'CREATE_VIEW' },
  dropView: { statementType: 'DDL', substatementType: 'DROP_VIEW' },
  repairPartitions: { statementType: 'DDL', substatementType: 'MSCK_REPAIR_TABLE' },
  query: { statementType: 'DML', substatementType: 'SELECT' },
};
