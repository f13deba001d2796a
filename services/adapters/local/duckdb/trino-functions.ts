import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Trino functions DuckDB lacks, or has with other semantics, defined as DuckDB macros for the engine's
 * session (TEMPORARY: they live in the connection, never in the warehouse file). The transpiler passes a
 * function it does not know through by name, so a macro of that name completes the translation; a function
 * DuckDB has with another meaning is renamed by a rewrite (trino-dialect.ts) to a `trino_` macro instead.
 * Each row is checked against the value Trino's documentation gives in
 * tests/integration/duckdb/trino-semantics.test.ts.
 */
interface TrinoMacro {
  name: string;
  /** `(parameters) AS body`, several separated by commas for overloads by arity. */
  definition: string;
  why: string;
}

/** `concat(a, b, ...)` as `a || b || ...` for 2 to 16 arguments. */
function concatOverloads(): string {
  return Array.from({ length: 15 }, (_, index) => {
    const names = Array.from({ length: index + 2 }, (__, n) => `a${n}`);
    return `(${names.join(', ')}) AS ${names.join(' || ')}`;
  }).join(', ');
}

/**
 * `greatest` / `least` of 1 to 16 arguments that are NULL as soon as one argument is, as Trino's; DuckDB's skip
 * NULLs (greatest(1, NULL, 3) is 3 there). Comparison functions in Trino return NULL for a NULL input.
 */
function nullIfAnyNullOverloads(duckDbFunction: 'greatest' | 'least'): string {
  return Array.from({ length: 16 }, (_, index) => {
    const names = Array.from({ length: index + 1 }, (__, n) => `a${n}`);
    const anyNull = names.map((name) => `${name} IS NULL`).join(' OR ');
    return `(${names.join(', ')}) AS CASE WHEN ${anyNull} THEN NULL ELSE ${duckDbFunction}(${names.join(', ')}) END`;
  }).join(', ');
}

const TRINO_MACROS: readonly TrinoMacro[] = [
  {
    name: 'trino_concat',
    definition: concatOverloads(),
    why: "Trino's concat is the || operator: NULL if any argument is NULL; DuckDB's concat skips NULLs",
  },
  {
    name: 'trino_greatest',
    definition: nullIfAnyNullOverloads('greatest'),
    why: "Trino's greatest is NULL if any argument is NULL; DuckDB's skips NULLs",
  },
  {
    name: 'trino_least',
    definition: nullIfAnyNullOverloads('least'),
    why: "Trino's least is NULL if any argument is NULL; DuckDB's skips NULLs",
  },
  {
    name: 'trino_millisecond',
    definition: '(x) AS millisecond(x) % 1000',
    why: "Trino's millisecond is the millisecond of the second; DuckDB's counts the seconds' too",
  },
  {
    name: 'trino_split_part',
    definition:
      '(string, delimiter, field) AS CASE WHEN field > len(string_split(string, delimiter)) THEN NULL ' +
      'ELSE split_part(string, delimiter, field) END',
    why: "Trino's split_part past the last field is NULL; DuckDB's is ''",
  },
  {
    name: 'from_unixtime',
    definition: '(unixtime) AS to_timestamp(unixtime)',
    why: 'the transpiler leaves from_unixtime untranslated inside some functions, e.g. hour(from_unixtime(x))',
  },
  {
    name: 'dow',
    definition: '(x) AS isodow(x)',
    why: 'Trino alias of day_of_week: ISO, Monday 1 to Sunday 7',
  },
  { name: 'doy', definition: '(x) AS dayofyear(x)', why: 'Trino alias of day_of_year' },
  { name: 'year_of_week', definition: '(x) AS isoyear(x)', why: 'the year of the ISO week' },
  { name: 'yow', definition: '(x) AS isoyear(x)', why: 'Trino alias of year_of_week' },
  {
    name: 'array_join',
    definition: '(a, delimiter) AS array_to_string(a, delimiter)',
    why: 'Trino array_join: elements joined by the delimiter, NULL elements left out',
  },
  {
    name: 'approx_percentile',
    definition: '(x, percentage) AS approx_quantile(x, percentage)',
    why: "Trino's approximate percentile; DuckDB calls it approx_quantile",
  },
  {
    name: 'to_utf8',
    definition: '(x) AS encode(x)',
    why: "a varchar's UTF-8 bytes as varbinary (the partition key hashes them: queries/20_vehicles_data.sql)",
  },
  {
    name: 'current_timezone',
    definition:
      "() AS CASE current_setting('TimeZone') WHEN 'Etc/UTC' THEN 'UTC' ELSE current_setting('TimeZone') END",
    why: 'the session zone by its IANA name; Athena sessions are in UTC',
  },
];

export async function installTrinoFunctions(connection: DuckDBConnection): Promise<void> {
  for (const macro of TRINO_MACROS) {
    await connection.run(`CREATE OR REPLACE TEMPORARY MACRO ${macro.name}${macro.definition}`);
  }
}
