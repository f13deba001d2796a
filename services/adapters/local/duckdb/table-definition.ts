import * as z from 'zod';

/** A column with the DuckDB type the engine reads and writes it as. */
export const ColumnDefinitionSchema = z.object({ name: z.string().min(1), type: z.string().min(1) });
export type ColumnDefinition = z.infer<typeof ColumnDefinitionSchema>;

/**
 * What the local catalog knows of a table, as Glue would: where its files are, how they are stored, its
 * columns (partition columns last, as Athena lists them) and which of them are partition columns.
 */
export const TableDefinitionSchema = z.object({
  format: z.enum(['json', 'parquet']),
  /** The location URL as declared in the DDL, without trailing slash. */
  location: z.string().min(1),
  columns: z.array(ColumnDefinitionSchema).min(1),
  partitionColumns: z.array(z.string().min(1)),
  /**
   * DuckDB codec INSERT INTO writes with: a CTAS's compression, or a Hive Parquet table's
   * `parquet.compression`. Null for JSON tables, which the engine only reads, and for Parquet tables declared
   * before the catalog recorded their compression: those are written with Athena's default, GZIP.
   */
  codec: z.string().min(1).nullable(),
});
export type TableDefinition = z.infer<typeof TableDefinitionSchema>;

export function dataColumns(definition: TableDefinition): ColumnDefinition[] {
  return definition.columns.filter((column) => !definition.partitionColumns.includes(column.name));
}

export function partitionColumnDefinitions(definition: TableDefinition): ColumnDefinition[] {
  return definition.columns.filter((column) => definition.partitionColumns.includes(column.name));
}
