import { UnsupportedStatementError } from './bridge-errors.js';

/**
 * Hive DDL column types (CREATE EXTERNAL TABLE) and the DuckDB type that reads the same values. Complex
 * types (array, map, struct) are not needed by the lake yet and are refused rather than guessed.
 * https://docs.aws.amazon.com/athena/latest/ug/data-types.html
 */
const HIVE_TO_DUCKDB: Readonly<Record<string, string>> = {
  boolean: 'BOOLEAN',
  tinyint: 'TINYINT',
  smallint: 'SMALLINT',
  int: 'INTEGER',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  float: 'FLOAT',
  double: 'DOUBLE',
  string: 'VARCHAR',
  varchar: 'VARCHAR',
  char: 'VARCHAR',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  binary: 'BLOB',
};

const DECIMAL = /^decimal\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/;
const SIZED_TEXT = /^(varchar|char)\s*\(\s*\d+\s*\)$/;

export function duckDbTypeForHive(hiveType: string): string {
  const type = hiveType.trim().toLowerCase();
  const decimal = DECIMAL.exec(type);
  if (decimal) {
    // Hive's bare `decimal` is decimal(10,0).
    return `DECIMAL(${decimal[1] ?? '10'},${decimal[2] ?? '0'})`;
  }
  const sized = SIZED_TEXT.exec(type);
  const mapped = HIVE_TO_DUCKDB[sized?.[1] ?? type];
  if (!mapped) {
    throw new UnsupportedStatementError(
      `column type ${hiveType} is not supported by the local Athena bridge`,
    );
  }
  return mapped;
}
