import { scanSql } from '../../../shared/sql-text.js';

/**
 * Which table a statement writes, read from its first tokens: `INSERT INTO t ...` and CTAS
 * (`CREATE TABLE t [WITH (...)] AS ...`) write files; everything else (DDL, views, queries) does not. The
 * engine needs the table to know which run's files a re-run replaces, and the INSERT's parts to split one
 * that writes more than 100 partitions.
 */
export interface TableRef {
  /** As written; undefined means the query's context database. Names are folded to lower case, as Glue does. */
  database: string | undefined;
  table: string;
}

export interface InsertShape extends TableRef {
  kind: 'insert';
  /** `INSERT INTO db.t (a, b)`: the statement's text before its query. */
  head: string;
  /** The named target columns, or undefined for all of the table's, in order. */
  columns: string[] | undefined;
  /** The query's text, from its first token to the end. */
  query: string;
}

export interface CtasShape extends TableRef {
  kind: 'ctas';
}

export type WriteShape = InsertShape | CtasShape;

interface Token {
  kind: 'word' | 'quoted' | 'symbol' | 'other';
  value: string;
  start: number;
  end: number;
}

const CODE_TOKEN = /\s+|([A-Za-z_][A-Za-z0-9_$]*)|([().,])|(\S)/g;

function tokens(sql: string): Token[] {
  const found: Token[] = [];
  for (const segment of scanSql(sql)) {
    if (segment.kind === 'comment') continue;
    if (segment.kind !== 'code') {
      const quote = segment.text.charAt(0);
      const value = segment.text.slice(1, -1).replaceAll(quote + quote, quote);
      found.push({
        kind: segment.kind === 'identifier' ? 'quoted' : 'other',
        value,
        start: segment.start,
        end: segment.end,
      });
      continue;
    }
    for (const match of segment.text.matchAll(CODE_TOKEN)) {
      const [text, word, symbol, other] = match;
      const start = segment.start + (match.index ?? 0);
      const kind = word ? 'word' : symbol ? 'symbol' : other ? 'other' : undefined;
      if (kind) found.push({ kind, value: text, start, end: start + text.length });
    }
  }
  return found;
}

const isWord = (token: Token | undefined, word: string) =>
  token?.kind === 'word' && token.value.toUpperCase() === word;
const isSymbol = (token: Token | undefined, symbol: string) =>
  token?.kind === 'symbol' && token.value === symbol;
const QUERY_STARTS = ['SELECT', 'WITH', 'VALUES', 'TABLE'];

/** `name`, `db.name` or `catalog.db.name` from `at`; returns the table and the position after it. */
function tableRef(list: readonly Token[], at: number): { ref: TableRef; next: number } | undefined {
  const parts: string[] = [];
  let index = at;
  for (;;) {
    const token = list[index];
    if (token?.kind !== 'word' && token?.kind !== 'quoted') return undefined;
    parts.push(token.value.toLowerCase());
    index += 1;
    if (!isSymbol(list[index], '.')) break;
    index += 1;
  }
  const table = parts.at(-1);
  if (table === undefined || parts.length > 3) return undefined;
  return { ref: { database: parts.length >= 2 ? parts.at(-2) : undefined, table }, next: index };
}

/** The position after the parenthesised group opening at `at`, or undefined if it never closes. */
function afterGroup(list: readonly Token[], at: number): number | undefined {
  let depth = 0;
  for (let index = at; index < list.length; index += 1) {
    if (isSymbol(list[index], '(')) depth += 1;
    if (isSymbol(list[index], ')')) depth -= 1;
    if (depth === 0) return index + 1;
  }
  return undefined;
}

export function writeShapeOf(sql: string): WriteShape | undefined {
  const list = tokens(sql);
  if (isWord(list[0], 'INSERT') && isWord(list[1], 'INTO')) return insertShape(sql, list);
  if (isWord(list[0], 'CREATE') && isWord(list[1], 'TABLE')) return ctasShape(list);
  return undefined;
}

function insertShape(sql: string, list: readonly Token[]): InsertShape | undefined {
  const target = tableRef(list, 2);
  if (!target) return undefined;
  let at = target.next;
  let columns: string[] | undefined;
  const open = list[at];
  const afterOpen = list[at + 1];
  const startsQuery = QUERY_STARTS.some((word) => isWord(afterOpen, word)) || isSymbol(afterOpen, '(');
  if (isSymbol(open, '(') && !startsQuery) {
    const end = afterGroup(list, at);
    if (end === undefined) return undefined;
    columns = list
      .slice(at + 1, end - 1)
      .filter((token) => token.kind === 'word' || token.kind === 'quoted')
      .map((token) => token.value.toLowerCase());
    at = end;
  }
  const first = list[at];
  if (!first) return undefined;
  return {
    kind: 'insert',
    ...target.ref,
    head: sql.slice(0, first.start).trim(),
    columns,
    query: sql.slice(first.start).trim(),
  };
}

/** `CREATE TABLE [IF NOT EXISTS] t [WITH (...)] AS ...`; `CREATE TABLE t (columns)` writes no data. */
function ctasShape(list: readonly Token[]): CtasShape | undefined {
  let at = 2;
  if (isWord(list[at], 'IF') && isWord(list[at + 1], 'NOT') && isWord(list[at + 2], 'EXISTS')) at += 3;
  const target = tableRef(list, at);
  if (!target) return undefined;
  at = target.next;
  if (isWord(list[at], 'WITH') && isSymbol(list[at + 1], '(')) {
    const end = afterGroup(list, at + 1);
    if (end === undefined) return undefined;
    at = end;
  }
  return isWord(list[at], 'AS') ? { kind: 'ctas', ...target.ref } : undefined;
}
