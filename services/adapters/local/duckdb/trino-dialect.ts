import { Dialect, transpile } from '@polyglot-sql/sdk';
import { UnsupportedStatementError } from './bridge-errors.js';
import { firstLine } from './sql-tokens.js';

/**
 * Fixes for what polyglot (0.12) emits and DuckDB (1.5) does not accept. Each applies to the DuckDB text,
 * outside string literals, and is covered by tests/unit/services/adapters/local/duckdb/athena-bridge.test.ts.
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
    {
      why: "Trino concat is NULL when an argument is; DuckDB's skips NULLs (macro in trino-functions.ts)",
      pattern: /\bCONCAT\s*\(/gi,
      replace: () => 'trino_concat(',
    },
    {
      why: "Trino greatest/least are NULL when an argument is; DuckDB's skip NULLs (macros in trino-functions.ts)",
      pattern: /\b(GREATEST|LEAST)\s*\(/gi,
      replace: (name) => `trino_${name.toLowerCase()}(`,
    },
    {
      why: 'Trino millisecond is the millisecond of the second (macro in trino-functions.ts)',
      pattern: /\bMILLISECOND\s*\(/gi,
      replace: () => 'trino_millisecond(',
    },
    {
      why:
        'Trino to_hex writes upper-case digits, as DuckDB hex does; polyglot writes to_hex(x) as LOWER(HEX(x)). Trino ' +
        'has no hex function, so only to_hex gives this text',
      pattern: /\bLOWER\s*\(\s*HEX\s*\(/gi,
      replace: () => 'UPPER(HEX(',
    },
    {
      why: "Trino split_part past the last field is NULL, not '' (macro in trino-functions.ts)",
      pattern: /\bSPLIT_PART\s*\(/gi,
      replace: () => 'trino_split_part(',
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
 * `CAST(TO_TIMESTAMP(x) AS DATE)` is what the transpiler makes of Trino's `date(from_unixtime(x))`, the day of a
 * reading in 30_sensor_data.sql and 38_vehicle_day_intervals.sql. TO_TIMESTAMP gives a TIMESTAMPTZ, and DuckDB
 * turns a TIMESTAMPTZ into a DATE through ICU's calendar in the session's zone: about 300 ns a value, 3 s of CPU
 * for a night of ten million readings, in each of the two files (docs/decisions/0094). The engine pins the
 * session to UTC (duckdb-query-engine.ts), where the day is the UTC day of the instant, and
 * `CAST(make_timestamp(epoch_us(...)) AS DATE)` gives that without ICU (about 30 ns). Only this cast of
 * TO_TIMESTAMP, whose type is certain from the text, is rewritten; tests/integration/duckdb/trino-semantics.test.ts
 * compares both forms over negative, fractional, NULL and far-off instants.
 */
function rewriteUnixtimeCasts(sql: string): string {
  // Sticky patterns of this call's own: the arguments are rewritten by a nested call.
  const castOfUnixtime = /\bCAST\s*\(\s*TO_TIMESTAMP\s*\(/iy;
  const asDate = /\s*AS\s+DATE\s*\)/iy;
  let out = '';
  let at = 0;
  while (at < sql.length) {
    const char = sql[at];
    if (char === "'" || char === '"') {
      const end = quotedEnd(sql, at);
      out += sql.slice(at, end);
      at = end;
      continue;
    }
    castOfUnixtime.lastIndex = at;
    const cast = castOfUnixtime.exec(sql);
    if (cast !== null) {
      const argumentsStart = at + cast[0].length;
      const argumentsEnd = closingParenthesis(sql, argumentsStart);
      if (argumentsEnd !== undefined) {
        asDate.lastIndex = argumentsEnd + 1;
        if (asDate.test(sql)) {
          const unixtime = rewriteUnixtimeCasts(sql.slice(argumentsStart, argumentsEnd));
          out += `CAST(make_timestamp(epoch_us(TO_TIMESTAMP(${unixtime}))) AS DATE)`;
          at = asDate.lastIndex;
          continue;
        }
      }
    }
    out += char;
    at += 1;
  }
  return out;
}

/** The index just after the string literal or quoted identifier that starts at `start` (`''` and `""` escape). */
function quotedEnd(sql: string, start: number): number {
  const quote = sql[start];
  let at = start + 1;
  while (at < sql.length) {
    if (sql[at] === quote) {
      if (sql[at + 1] === quote) at += 2;
      else return at + 1;
    } else at += 1;
  }
  return sql.length;
}

/** The index of the `)` that closes the parenthesis opened just before `start`, quotes skipped; none if unbalanced. */
function closingParenthesis(sql: string, start: number): number | undefined {
  let depth = 1;
  let at = start;
  while (at < sql.length) {
    const char = sql[at];
    if (char === "'" || char === '"') {
      at = quotedEnd(sql, at);
      continue;
    }
    if (char === '(') depth += 1;
    else if (char === ')') {
      depth -= 1;
      if (depth === 0) return at;
    }
    at += 1;
  }
  return undefined;
}

/**
 * Trino query text (SELECT, WITH, VALUES) to DuckDB query text. polyglot maps functions and literals
 * (`from_unixtime` -> `TO_TIMESTAMP`, `date(x)` -> `CAST(x AS DATE)`, `max_by` -> `ARG_MAX_NULL`, ...).
 * Semantics it leaves alone are pinned by the engine's session instead: integer division
 * (`integer_division`), the UTC session zone, NULLS LAST. tests/integration/duckdb checks each of them.
 */
export function trinoQueryToDuckDb(query: string): string {
  const cached = translated.get(query);
  if (cached !== undefined) return cached;
  const duckDb = translate(query);
  if (translated.size >= CACHE_SIZE) {
    const oldest = translated.keys().next();
    if (!oldest.done) translated.delete(oldest.value);
  }
  translated.set(query, duckDb);
  return duckDb;
}

/**
 * The transpiler's WebAssembly compiles its code lazily, function by function, on first use: the first few
 * translations of a process take hundreds of milliseconds, later ones about one. Translating one query that
 * touches the paths the SQL files use moves that cost to a moment of the caller's choosing (the engine does
 * it while DuckDB opens its file), instead of charging it to whichever statement comes first.
 */
export function warmUpTranslator(): void {
  translate(
    "WITH t AS (SELECT CAST(NULL AS varchar) AS v, CAST(date(from_unixtime(1 / 1000)) AS date) AS d FROM x WHERE r = 'a') " +
      'SELECT max_by(v, d), CAST(from_iso8601_timestamp(v) AS timestamp), LEAD(d) OVER (PARTITION BY v ORDER BY d), ' +
      'avg(CAST(1 AS double)), count(*) FROM t JOIN (SELECT v FROM y GROUP BY v) AS u ON u.v = t.v ORDER BY 1',
  );
}

/**
 * Translations are pure and cost tens of milliseconds each in the transpiler's WebAssembly, so a process
 * that runs the same statements again (a re-run, the benchmark, `etl sql` in a loop) keeps the last few.
 */
const CACHE_SIZE = 256;
const translated = new Map<string, string>();

function translate(query: string): string {
  const result = transpile(query, Dialect.Trino, Dialect.DuckDB);
  const statements = result.sql ?? [];
  const [statement] = statements;
  if (!result.success || statement === undefined || statements.length !== 1) {
    throw new UnsupportedStatementError(
      `cannot translate Trino query to DuckDB (${result.error ?? 'no single statement'}): ${firstLine(query)}`,
    );
  }
  return rewriteUnixtimeCasts(rewriteOutsideStrings(statement));
}
