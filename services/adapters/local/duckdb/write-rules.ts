import type { DuckDBConnection } from '@duckdb/node-api';
import * as z from 'zod';
import { AthenaRuleError } from './bridge-errors.js';
import type { CreateTableAsPlan } from './ctas-ddl.js';
import { displayName, quoteIdentifier, type TableName } from './sql-literals.js';
import type { ColumnDefinition, TableDefinition } from './table-definition.js';

const DescribeRowSchema = z.object({ column_name: z.string(), column_type: z.string() });

/** The output columns of a DuckDB query, names folded to lower case as Glue stores them. */
export async function describeQuery(
  connection: DuckDBConnection,
  query: string,
): Promise<ColumnDefinition[]> {
  const reader = await connection.runAndReadAll(`DESCRIBE ${query}`);
  return reader.getRowObjectsJS().map((row) => {
    const { column_name, column_type } = DescribeRowSchema.parse(row);
    return { name: column_name.toLowerCase(), type: column_type };
  });
}

/** Types a Hive table cannot store; Athena refuses them in CTAS, so the local engine does too. */
const UNSTORABLE_TYPES: readonly { pattern: RegExp; hint: string }[] = [
  { pattern: /WITH TIME ZONE/i, hint: 'cast it to timestamp' },
  { pattern: /^"?NULL"?$/i, hint: 'cast NULL to a type' },
];

/**
 * The table a CTAS creates, checked against Athena's rules: unique column names, partition columns last
 * and in the order of `partitioned_by`, at least one column that is not a partition column.
 * https://docs.aws.amazon.com/athena/latest/ug/ctas-considerations-limitations.html
 */
export function ctasDefinition(
  plan: CreateTableAsPlan,
  columns: readonly ColumnDefinition[],
): TableDefinition {
  const table = displayName(plan.table);
  const names = columns.map((column) => column.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) {
    throw new AthenaRuleError(`CTAS ${table}: column ${duplicate} appears twice`);
  }
  for (const column of columns) {
    const refused = UNSTORABLE_TYPES.find(({ pattern }) => pattern.test(column.type));
    if (refused) {
      throw new AthenaRuleError(
        `NOT_SUPPORTED: CTAS ${table}: column ${column.name} has type ${column.type}, which a Hive table cannot store; ${refused.hint}`,
      );
    }
  }
  const tail = names.slice(names.length - plan.partitionColumns.length);
  if (plan.partitionColumns.some((name, index) => tail[index] !== name)) {
    throw new AthenaRuleError(
      `HIVE_COLUMN_ORDER_MISMATCH: CTAS ${table}: partition columns [${plan.partitionColumns.join(', ')}] must be ` +
        `the last columns of the SELECT, in that order; the SELECT ends with [${tail.join(', ')}]`,
    );
  }
  if (plan.partitionColumns.length >= columns.length) {
    throw new AthenaRuleError(`CTAS ${table}: at least one column must not be a partition column`);
  }
  return {
    format: 'parquet',
    location: plan.location,
    columns: [...columns],
    partitionColumns: plan.partitionColumns,
    codec: plan.codec,
  };
}

/**
 * The SELECT that feeds an INSERT INTO: the query's columns are matched to the table's by position, as
 * Trino does, and cast to the table's declared types; table columns the statement does not name are NULL.
 */
export function insertSelect(
  table: TableName,
  definition: TableDefinition,
  query: string,
  sourceColumnCount: number,
  targetColumns: readonly string[] | undefined,
): string {
  const targets = targetColumns ?? definition.columns.map((column) => column.name);
  const unknown = targets.find((name) => !definition.columns.some((column) => column.name === name));
  if (unknown) {
    throw new AthenaRuleError(`INSERT INTO ${displayName(table)}: the table has no column ${unknown}`);
  }
  if (targets.length !== sourceColumnCount) {
    throw new AthenaRuleError(
      `INSERT INTO ${displayName(table)}: mismatched column count, the table takes ${targets.length} ` +
        `column(s) (${targets.join(', ')}) and the query returns ${sourceColumnCount}`,
    );
  }
  const source = (index: number) => quoteIdentifier(`_c${index}`);
  const projections = definition.columns.map((column) => {
    const index = targets.indexOf(column.name);
    const value = index === -1 ? 'NULL' : source(index);
    return `CAST(${value} AS ${column.type}) AS ${quoteIdentifier(column.name)}`;
  });
  const aliases = targets.map((_, index) => source(index)).join(', ');
  return `SELECT ${projections.join(', ')} FROM (${query}) AS _fleet_source(${aliases})`;
}
