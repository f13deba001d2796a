import { Dialect, transpile } from '@polyglot-sql/sdk';
import { UnsupportedStatementError } from './bridge-errors.js';
import { firstLine } from './sql-tokens.js';

/**
 * Fixes for what polyglot (0.12) emits and DuckDB (1.5) does not accept. Each applies to the DuckDB text,
 * outside string literals, and is covered by tests/unit/sql/athena-bridge.test.ts.
 */
const DUCKDB_REWRITES: readonly { why: string; pattern: RegExp; replace: (...groups: string[]) => string }[] =
  [
    {
      why: "date_add('day', n, d) becomes `INTERVAL n DAY`; DuckDB needs a column or negative amount in parentheses",
      pattern:
        /\bINTERVAL\s+((?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*)(?:\.(?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*))*|-\s*\d+(?:\.\d+)?)\s+(YEAR|QUARTER|MONTH|WEEK|DAY|HOUR|MINUTE|SECOND|MILLISECOND)S?\b/gi,
      replace: (amount, unit) => `INTERVAL (${amount}) ${unit}`,
    },
    {
      why: 'Trino sequence(start, stop[, step]) is DuckDB generate_series: both include stop',
      pattern: /\bSEQUENCE\s*\(/gi,
      replace: () => 'GENERATE_SERIES(',
    },
  ];

const STRING_LITERAL = /'(?:[^']|'')*'/.source;

function rewriteOutsideStrings(sql: string): string {
  return DUCKDB_REWRITES.reduce((text, { pattern, replace }) => {
    const guarded = new RegExp(`${STRING_LITERAL}|${pattern.source}`, pattern.flags);
    // The empty alternative matches '', so exec tells how many capture groups the pattern has.
    const groupCount = (new RegExp(`${pattern.source}|`).exec('')?.length ?? 1) - 1;
    return text.replace(guarded, (match: string, ...rest: unknown[]) =>
      match.startsWith("'") ? match : replace(...rest.slice(0, groupCount).map((group) => String(group))),
    );
  }, sql);
}

/**
 * Trino query text (SELECT, WITH, VALUES) to DuckDB query text. polyglot maps functions and literals
 * (`from_unixtime` -> `TO_TIMESTAMP`, `date(x)` -> `CAST(x AS DATE)`, `max_by` -> `ARG_MAX_NULL`, ...).
 * Semantics it leaves alone are pinned by the engine's session instead: integer division
 * (`integer_division`), the UTC session zone, NULLS LAST. tests/integration/duckdb checks each of them.
 */
export function trinoQueryToDuckDb(query: string): string {
  const result = transpile(query, Dialect.Trino, Dialect.DuckDB);
  const statements = result.sql ?? [];
  const [statement] = statements;
  if (!result.success || statement === undefined || statements.length !== 1) {
    throw new UnsupportedStatementError(
      `cannot translate Trino query to DuckDB (${result.error ?? 'no single statement'}): ${firstLine(query)}`,
    );
  }
  return rewriteOutsideStrings(statement);
}
