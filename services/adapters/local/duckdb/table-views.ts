import type { DuckDBConnection } from '@duckdb/node-api';
import type { CatalogEntry, LocalCatalog } from './local-catalog.js';
import { filesGlob, localPathOf } from './local-locations.js';
import { displayName, qualified, quoteIdentifier, quoteLiteral, type TableName } from './sql-literals.js';
import {
  type ColumnDefinition,
  dataColumns,
  partitionColumnDefinitions,
  type TableDefinition,
} from './table-definition.js';
import { FORMAT_EXTENSIONS } from './table-formats.js';
import { hasFileWithExtension } from './table-writer.js';

/**
 * Every catalog table is a DuckDB view over its files, so Athena SQL can name it like a table. DuckDB fails
 * on a glob that matches no file, while Athena reads an empty table from an empty location; so a table
 * without files gets a typed empty view instead, and the views are brought up to date before each statement
 * (files appear as the downloader lands pages and as INSERTs write them).
 */
export function viewSql(table: TableName, definition: TableDefinition, hasFiles: boolean): string {
  const source = hasFiles
    ? `${selectColumns(definition)} FROM ${readFunction(definition)}`
    : emptySelect(definition);
  return `CREATE OR REPLACE VIEW ${qualified(table)} AS ${source}`;
}

function selectColumns(definition: TableDefinition): string {
  const columns = definition.columns.map((column) =>
    definition.partitionColumns.includes(column.name)
      ? quoteIdentifier(column.name)
      : `CAST(${quoteIdentifier(column.name)} AS ${column.type}) AS ${quoteIdentifier(column.name)}`,
  );
  return `SELECT ${columns.join(', ')}`;
}

/** Hive partition values are typed as declared, never guessed: `run=2024-01-01` is a string, not a date. */
function hiveOptions(definition: TableDefinition): string[] {
  const partitions = partitionColumnDefinitions(definition);
  if (partitions.length === 0) {
    return ['hive_partitioning = false'];
  }
  return [
    'hive_partitioning = true',
    `hive_types = ${typeStruct(partitions)}`,
    'hive_types_autocast = false',
  ];
}

/** Table-function calls per format; JSON keys not declared as columns are ignored, as the SerDe ignores them. */
const READ_FUNCTIONS: Readonly<Record<TableDefinition['format'], (definition: TableDefinition) => string>> = {
  json: (definition) =>
    readCall('read_json', definition, [
      "format = 'newline_delimited'",
      `columns = ${typeStruct(dataColumns(definition))}`,
    ]),
  // Athena reads Parquet columns by name, so files written before a column was added read it as NULL.
  parquet: (definition) => readCall('read_parquet', definition, ['union_by_name = true']),
};

function readFunction(definition: TableDefinition): string {
  return READ_FUNCTIONS[definition.format](definition);
}

function readCall(name: string, definition: TableDefinition, options: readonly string[]): string {
  const glob = filesGlob(definition.location, FORMAT_EXTENSIONS[definition.format]);
  return `${name}(${[quoteLiteral(glob), ...options, ...hiveOptions(definition)].join(', ')})`;
}

function emptySelect(definition: TableDefinition): string {
  const columns = definition.columns.map(
    (column) => `CAST(NULL AS ${column.type}) AS ${quoteIdentifier(column.name)}`,
  );
  return `SELECT ${columns.join(', ')} WHERE false`;
}

function typeStruct(columns: readonly ColumnDefinition[]): string {
  return `{${columns.map((column) => `${quoteLiteral(column.name)}: ${quoteLiteral(column.type)}`).join(', ')}}`;
}

/** Whether the table's location holds a file its reader would glob, checked on the file system. */
function locationHasFiles(definition: TableDefinition): Promise<boolean> {
  return hasFileWithExtension(localPathOf(definition.location), FORMAT_EXTENSIONS[definition.format]);
}

/** Keeps each table's view in step with whether its location has files; remembers what it last created. */
export class ViewRefresher {
  private readonly created = new Map<string, boolean>();

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly catalog: LocalCatalog,
  ) {}

  async refreshAll(): Promise<void> {
    for (const entry of await this.catalog.list()) {
      await this.refresh(entry);
    }
  }

  async refresh({ table, definition }: CatalogEntry): Promise<void> {
    const hasFiles = await locationHasFiles(definition);
    if (this.created.get(displayName(table)) !== hasFiles) {
      await this.connection.run(viewSql(table, definition, hasFiles));
      this.created.set(displayName(table), hasFiles);
    }
  }

  forget(table: TableName): void {
    this.created.delete(displayName(table));
  }
}
