/** Quoting for the DuckDB SQL the bridge writes itself; every name and path it emits goes through these. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A table in the Athena catalog: `database.table`, both lower-case as Glue stores them. */
export interface TableName {
  schema: string;
  name: string;
}

export function qualified(table: TableName): string {
  return `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`;
}

export function displayName(table: TableName): string {
  return `${table.schema}.${table.name}`;
}
