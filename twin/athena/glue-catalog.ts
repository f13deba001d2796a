import type { TableDefinition } from '../../services/adapters/local/duckdb/table-definition.js';
import type { TwinGlueDatabase } from '../template/stack-model.js';
import { TWIN_ACCOUNT, TWIN_PARTITION, TWIN_REGION } from '../twin-account.js';

/** A column as Glue keeps it: a Hive type name. */
export interface GlueColumn {
  Name: string;
  Type: string;
}

/** An external table of the catalog: what Glue stores, and the bridge's reading of it. */
export interface GlueTable {
  database: string;
  name: string;
  /** As the DDL gave it, `s3://bucket/prefix` without its trailing slash. */
  location: string;
  columns: GlueColumn[];
  partitionKeys: GlueColumn[];
  serializationLibrary: string;
  inputFormat: string;
  outputFormat: string;
  /** TBLPROPERTIES, partition projection included. */
  parameters: Record<string, string>;
  createTime: Date;
  /** The DuckDB bridge's definition of the same table (DuckDB types), over the s3:// location. */
  definition: TableDefinition;
}

export interface GluePartition {
  values: string[];
  location: string;
  createTime: Date;
}

const glueCatalogArn = (): string => `arn:${TWIN_PARTITION}:glue:${TWIN_REGION}:${TWIN_ACCOUNT}:catalog`;
const glueDatabaseArn = (database: string): string =>
  `arn:${TWIN_PARTITION}:glue:${TWIN_REGION}:${TWIN_ACCOUNT}:database/${database}`;
const glueTableArn = (database: string, table: string): string =>
  `arn:${TWIN_PARTITION}:glue:${TWIN_REGION}:${TWIN_ACCOUNT}:table/${database}/${table}`;

/**
 * The resources Glue authorizes an action on: the object and every ancestor in the catalog
 * (https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html: "you need permissions
 * to call this action on the resource (table or database) and all ancestors of the resource").
 */
export function glueResources(database?: string, table?: string): string[] {
  return [
    glueCatalogArn(),
    ...(database === undefined ? [] : [glueDatabaseArn(database)]),
    ...(database === undefined || table === undefined ? [] : [glueTableArn(database, table)]),
  ];
}

const JSON_SERDE = 'org.openx.data.jsonserde.JsonSerDe';
const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';

/** How Glue records the bridge's two formats (what Athena's DDL stores for them). */
export const STORAGE_OF_FORMAT: Readonly<
  Record<TableDefinition['format'], { serde: string; input: string; output: string }>
> = {
  json: {
    serde: JSON_SERDE,
    input: 'org.apache.hadoop.mapred.TextInputFormat',
    output: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  },
  parquet: {
    serde: PARQUET_SERDE,
    input: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    output: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  },
};

/** DuckDB's type names back to the Hive names Glue stores (the bridge maps Hive to DuckDB on the way in). */
export function hiveTypeOf(duckDbType: string): string {
  const type = duckDbType.trim().toUpperCase();
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  const names: Record<string, string> = {
    BOOLEAN: 'boolean',
    TINYINT: 'tinyint',
    SMALLINT: 'smallint',
    INTEGER: 'int',
    BIGINT: 'bigint',
    FLOAT: 'float',
    DOUBLE: 'double',
    VARCHAR: 'string',
    DATE: 'date',
    TIMESTAMP: 'timestamp',
    BLOB: 'binary',
  };
  return names[type] ?? type.toLowerCase();
}

const tableKey = (database: string, table: string) => `${database}.${table}`;

/**
 * The twin's Glue Data Catalog: databases (the template's, and those CREATE DATABASE adds), external tables and
 * their partitions. It only keeps state; the Athena and Glue endpoints authorize each use of it.
 */
export class GlueCatalog {
  readonly #databases = new Map<
    string,
    { name: string; description: string | undefined; createTime: Date }
  >();
  readonly #tables = new Map<string, GlueTable>();
  readonly #partitions = new Map<string, Map<string, GluePartition>>();

  constructor(templateDatabases: Iterable<TwinGlueDatabase>) {
    for (const database of templateDatabases)
      this.#databases.set(database.name, {
        name: database.name,
        description: database.description,
        createTime: new Date(),
      });
  }

  database(name: string) {
    return this.#databases.get(name.toLowerCase());
  }

  databases() {
    return [...this.#databases.values()];
  }

  /** False when it already existed. */
  createDatabase(name: string): boolean {
    if (this.#databases.has(name)) return false;
    this.#databases.set(name, { name, description: undefined, createTime: new Date() });
    return true;
  }

  table(database: string, name: string): GlueTable | undefined {
    return this.#tables.get(tableKey(database.toLowerCase(), name.toLowerCase()));
  }

  tables(database: string): GlueTable[] {
    return [...this.#tables.values()].filter((table) => table.database === database);
  }

  putTable(table: GlueTable): void {
    this.#tables.set(tableKey(table.database, table.name), table);
  }

  dropTable(database: string, name: string): void {
    this.#tables.delete(tableKey(database, name));
    this.#partitions.delete(tableKey(database, name));
  }

  partitions(database: string, table: string): GluePartition[] {
    return [...(this.#partitions.get(tableKey(database, table))?.values() ?? [])];
  }

  /** Adds the partitions not registered yet; returns those it added. */
  addPartitions(database: string, table: string, partitions: readonly GluePartition[]): GluePartition[] {
    const key = tableKey(database, table);
    const known = this.#partitions.get(key) ?? new Map<string, GluePartition>();
    this.#partitions.set(key, known);
    const added = partitions.filter((p) => !known.has(JSON.stringify(p.values)));
    for (const partition of added) known.set(JSON.stringify(partition.values), partition);
    return added;
  }
}

/** GetTable's `Table` as Glue answers it (https://docs.aws.amazon.com/glue/latest/webapi/API_Table.html). */
export function glueTableResponse(table: GlueTable) {
  return {
    Name: table.name,
    DatabaseName: table.database,
    CatalogId: TWIN_ACCOUNT,
    CreateTime: table.createTime.getTime() / 1000,
    TableType: 'EXTERNAL_TABLE',
    Parameters: { EXTERNAL: 'TRUE', ...table.parameters },
    PartitionKeys: table.partitionKeys,
    StorageDescriptor: {
      Columns: table.columns,
      Location: `${table.location}/`,
      InputFormat: table.inputFormat,
      OutputFormat: table.outputFormat,
      Compressed: false,
      NumberOfBuckets: -1,
      SerdeInfo: { SerializationLibrary: table.serializationLibrary, Parameters: {} },
      StoredAsSubDirectories: false,
    },
  };
}

export function gluePartitionResponse(table: GlueTable, partition: GluePartition) {
  return {
    Values: partition.values,
    DatabaseName: table.database,
    TableName: table.name,
    CatalogId: TWIN_ACCOUNT,
    CreateTime: partition.createTime.getTime() / 1000,
    StorageDescriptor: {
      Columns: table.columns,
      Location: partition.location,
      InputFormat: table.inputFormat,
      OutputFormat: table.outputFormat,
      SerdeInfo: { SerializationLibrary: table.serializationLibrary, Parameters: {} },
    },
  };
}
