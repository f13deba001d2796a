import type { DuckDBConnection } from '@duckdb/node-api';
import * as z from 'zod';
import type { TableName } from './sql-literals.js';
import { type TableDefinition, TableDefinitionSchema } from './table-definition.js';

/**
 * The local stand-in for Glue: table -> definition, kept in the DuckDB file itself so that tables created
 * by one run are known to the next, exactly as Glue remembers them between Athena queries.
 */
const CATALOG = 'main._fleet_catalog';

export interface CatalogEntry {
  table: TableName;
  definition: TableDefinition;
}

const CatalogRowSchema = z.object({
  schema_name: z.string(),
  table_name: z.string(),
  definition: z.string().transform((text, context) => {
    const parsed = TableDefinitionSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      context.addIssue({ code: 'custom', message: `corrupt catalog entry: ${parsed.error.message}` });
      return z.NEVER;
    }
    return parsed.data;
  }),
});

export interface LocalCatalog {
  get(table: TableName): Promise<TableDefinition | undefined>;
  list(): Promise<CatalogEntry[]>;
  put(table: TableName, definition: TableDefinition): Promise<void>;
  remove(table: TableName): Promise<void>;
}

/**
 * Opens the catalog and reads it whole: one engine owns the DuckDB file (DuckDB locks it), so the copy in
 * memory stays true, and every statement can consult it without a query.
 */
export async function openLocalCatalog(connection: DuckDBConnection): Promise<LocalCatalog> {
  await connection.run(
    `CREATE TABLE IF NOT EXISTS ${CATALOG} (schema_name VARCHAR NOT NULL, table_name VARCHAR NOT NULL, ` +
      'definition VARCHAR NOT NULL, PRIMARY KEY (schema_name, table_name))',
  );
  const reader = await connection.runAndReadAll(
    `SELECT schema_name, table_name, definition FROM ${CATALOG} ORDER BY schema_name, table_name`,
  );
  const entries = new Map<string, CatalogEntry>();
  const keyOf = (table: TableName) => JSON.stringify([table.schema, table.name]);
  for (const row of reader.getRowObjectsJS()) {
    const parsed = CatalogRowSchema.parse(row);
    const table = { schema: parsed.schema_name, name: parsed.table_name };
    entries.set(keyOf(table), { table, definition: parsed.definition });
  }
  return {
    get: async (table) => entries.get(keyOf(table))?.definition,
    list: async () => [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, entry]) => entry),
    put: async (table, definition) => {
      await connection.run(`INSERT OR REPLACE INTO ${CATALOG} VALUES ($1, $2, $3)`, [
        table.schema,
        table.name,
        JSON.stringify(definition),
      ]);
      entries.set(keyOf(table), { table, definition });
    },
    remove: async (table) => {
      await connection.run(`DELETE FROM ${CATALOG} WHERE schema_name = $1 AND table_name = $2`, [
        table.schema,
        table.name,
      ]);
      entries.delete(keyOf(table));
    },
  };
}
