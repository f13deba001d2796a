import { UnsupportedStatementError } from './bridge-errors.js';
import type { TableName } from './sql-literals.js';
import { isKeyword, type Token, type TokenCursor, tokenize } from './sql-tokens.js';
import { DEFAULT_PARQUET_CODEC, parquetCodec } from './table-formats.js';
import { trinoQueryToDuckDb } from './trino-dialect.js';

export interface CreateTableAsPlan {
  kind: 'createTableAs';
  table: TableName;
  ifNotExists: boolean;
  location: string;
  codec: string;
  partitionColumns: string[];
  /** DuckDB query text. */
  query: string;
  withData: boolean;
}

interface CtasDraft {
  location?: string;
  codec: string;
  partitionColumns: string[];
}

type PropertyValue = string | string[];
type PropertyParser = (value: PropertyValue, draft: CtasDraft) => void;

/**
 * CTAS table properties the local engine honours. Any other property is refused, so that nobody believes
 * a setting (bucketing, ORC, Iceberg) took effect locally when it did not.
 * https://docs.aws.amazon.com/athena/latest/ug/create-table-as.html#ctas-table-properties
 */
const CTAS_PROPERTIES: Readonly<Record<string, PropertyParser>> = {
  format: (value) => {
    if (single('format', value).toUpperCase() !== 'PARQUET') {
      throw new UnsupportedStatementError(
        `CTAS format ${String(value)}: the local engine writes PARQUET only`,
      );
    }
  },
  write_compression: (value, draft) => {
    draft.codec = parquetCodec(single('write_compression', value));
  },
  parquet_compression: (value, draft) => {
    draft.codec = parquetCodec(single('parquet_compression', value), 'parquet_compression');
  },
  partitioned_by: (value, draft) => {
    draft.partitionColumns = list('partitioned_by', value).map((name) => name.toLowerCase());
  },
  external_location: (value, draft) => {
    draft.location = single('external_location', value).replace(/\/+$/, '');
  },
  table_type: (value) => {
    if (single('table_type', value).toUpperCase() !== 'HIVE') {
      throw new UnsupportedStatementError(
        `CTAS table_type ${String(value)}: the local engine writes Hive tables`,
      );
    }
  },
};

/** `CREATE TABLE [IF NOT EXISTS] name [WITH (...)] AS query [WITH [NO] DATA]`, after the name. */
export function parseCreateTableAs(
  cursor: TokenCursor,
  table: TableName,
  ifNotExists: boolean,
): CreateTableAsPlan {
  const draft: CtasDraft = { codec: DEFAULT_PARQUET_CODEC, partitionColumns: [] };
  if (cursor.acceptKeywords('WITH')) {
    for (const [name, value] of cursor.parenthesisedItems().map((item) => property(cursor, item))) {
      const parse = CTAS_PROPERTIES[name];
      if (!parse) {
        throw new UnsupportedStatementError(
          `CTAS property ${name} is not supported by the local Athena bridge`,
        );
      }
      parse(value, draft);
    }
  }
  if (!cursor.atKeywords('AS')) {
    cursor.fail('CREATE TABLE without AS (an Iceberg table) is not supported locally; expected AS');
  }
  cursor.expectKeywords('AS');
  const { query, withData } = splitDataClause(cursor.rest());
  if (!draft.location) {
    throw new UnsupportedStatementError(
      `CTAS ${table.schema}.${table.name}: give external_location; the local engine has no query-result location`,
    );
  }
  return {
    kind: 'createTableAs',
    table,
    ifNotExists,
    location: draft.location,
    codec: draft.codec,
    partitionColumns: draft.partitionColumns,
    query: trinoQueryToDuckDb(query),
    withData,
  };
}

/** Separates the trailing `WITH [NO] DATA` from the query; Athena's default is WITH DATA. */
function splitDataClause(text: string): { query: string; withData: boolean } {
  const tokens = tokenize(text);
  const tail = (count: number) => tokens.slice(-count);
  const matches = (clause: readonly string[]) =>
    tail(clause.length).length === clause.length &&
    tail(clause.length).every((token, index) => isKeyword(token, clause[index] ?? ''));
  for (const [clause, withData] of [
    [['WITH', 'NO', 'DATA'], false],
    [['WITH', 'DATA'], true],
  ] as const) {
    const first = tail(clause.length)[0];
    if (matches(clause) && first) {
      return { query: text.slice(0, first.start).trim(), withData };
    }
  }
  return { query: text.trim(), withData: true };
}

/** `name = 'text'`, `name = ARRAY['a', 'b']`, `name = 123` or `name = true`. */
function property(cursor: TokenCursor, item: readonly Token[]): [string, PropertyValue] {
  const [name, equals, ...value] = item;
  if (name?.kind !== 'word' || equals?.value !== '=') {
    return cursor.fail('expected property = value');
  }
  const [first, ...rest] = value;
  if (first && rest.length === 0 && first.kind !== 'symbol') {
    return [name.value.toLowerCase(), first.value];
  }
  if (isKeyword(first, 'ARRAY') && rest[0]?.value === '[' && rest.at(-1)?.value === ']') {
    const elements = rest.slice(1, -1).filter((token) => token.value !== ',' || token.kind !== 'symbol');
    if (elements.every((token) => token.kind === 'string')) {
      return [name.value.toLowerCase(), elements.map((token) => token.value)];
    }
  }
  return cursor.fail(`unsupported value of property ${name.value}`);
}

function single(name: string, value: PropertyValue): string {
  if (typeof value !== 'string') {
    throw new UnsupportedStatementError(`CTAS property ${name} takes a single value`);
  }
  return value;
}

function list(name: string, value: PropertyValue): string[] {
  if (typeof value === 'string') {
    throw new UnsupportedStatementError(`CTAS property ${name} takes ARRAY['...']`);
  }
  return value;
}
