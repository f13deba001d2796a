import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import * as z from 'zod';
import { describeError } from '../../../shared/errors.js';
import { partitionKeyOf } from '../../../shared/lake-keys.js';
import { syncFile } from '../sync-file.js';
import { WarehouseMigrationError } from './bridge-errors.js';
import { assertWritable, type SqlSandbox } from './duckdb-sandbox.js';
import type { LocalCatalog } from './local-catalog.js';
import { localPathOf } from './local-locations.js';
import { displayName, quoteIdentifier, quoteLiteral, type TableName } from './sql-literals.js';
import { dataColumns, partitionColumnDefinitions, type TableDefinition } from './table-definition.js';
import { DEFAULT_PARQUET_CODEC } from './table-formats.js';
import { filesBelow } from './table-writer.js';

/**
 * Until docs/decisions/0089, queries/20 and 30 partitioned vehicles_data and sensor_data by `vehicle_type` itself;
 * they now keep it as data and partition by `vehicle_type_key`. A state folder made before holds the old tables,
 * which the files' `CREATE EXTERNAL TABLE IF NOT EXISTS` leaves as they are (Athena compares nothing), and the
 * next INSERT would fail on a column the table does not have. Nothing is lost by moving them: every type the old
 * layout stored came back from its folder as itself (the others were quarantined), so each old file becomes one
 * file of the new layout, with the same rows and the same name (a re-run still replaces its own run's files).
 *
 * It runs when the engine opens the state folder, before any statement: a table half moved (old and new folders
 * side by side) cannot be read as either layout, and no view is made of it until the move has finished. Each file
 * is written aside, synced, renamed into its new folder, and only then is the old one deleted, so a process killed
 * at any point leaves every row in at least one of the two, and the next open goes on with the files still in old
 * folders (rewriting one it had already moved gives the same file). The catalog takes the new definition last.
 */
const TYPE = 'vehicle_type';
const KEY = 'vehicle_type_key';
/** Only the tables the bundled SQL declared so: another table partitioned by vehicle_type is someone's own. */
const TABLES = new Set(['vehicles_data', 'sensor_data']);

/** The definition queries/ now declares for a table of the old layout; undefined for any other table. */
export function typeKeyLayoutOf(before: TableDefinition): TableDefinition | undefined {
  const partitions = partitionColumnDefinitions(before);
  const type = partitions.at(-1);
  if (before.format !== 'parquet' || type?.name !== TYPE || type.type !== 'VARCHAR') return undefined;
  if (before.columns.some((column) => column.name === KEY)) return undefined;
  const keyed = partitions.map((column) => (column.name === TYPE ? { name: KEY, type: 'VARCHAR' } : column));
  return {
    ...before,
    columns: [...dataColumns(before), { name: TYPE, type: 'VARCHAR' }, ...keyed],
    partitionColumns: keyed.map((column) => column.name),
  };
}

/** The old layout of a table queries/ now declares with a type key: typeKeyLayoutOf's inverse. */
export function layoutBeforeTypeKeys(after: TableDefinition): TableDefinition | undefined {
  const partitions = partitionColumnDefinitions(after);
  const data = dataColumns(after);
  const key = partitions.at(-1);
  const type = data.at(-1);
  if (after.format !== 'parquet' || key?.name !== KEY || key.type !== 'VARCHAR') return undefined;
  if (type?.name !== TYPE || type.type !== 'VARCHAR') return undefined;
  const typed = partitions.map((column) => (column.name === KEY ? { name: TYPE, type: 'VARCHAR' } : column));
  return { ...after, columns: [...data.slice(0, -1), ...typed], partitionColumns: typed.map((c) => c.name) };
}

export interface MigrationOptions {
  sandbox?: SqlSandbox;
  /** A line for the operator per table moved. */
  notice?: (line: string) => void;
  /** Called after each file is moved, with how many are moved so far (tests stop a migration here). */
  afterFile?: (moved: number) => void;
}

/** Moves every table of the state folder that is still in the old layout; returns the tables moved. */
export async function migrateWarehouse(
  connection: DuckDBConnection,
  catalog: LocalCatalog,
  options: MigrationOptions = {},
): Promise<string[]> {
  const moved: string[] = [];
  for (const { table, definition } of await catalog.list()) {
    const after = TABLES.has(table.name) ? typeKeyLayoutOf(definition) : undefined;
    if (after === undefined) continue;
    await moveTable(connection, table, definition, after, options);
    await catalog.put(table, after);
    moved.push(displayName(table));
  }
  return moved;
}

async function moveTable(
  connection: DuckDBConnection,
  table: TableName,
  before: TableDefinition,
  after: TableDefinition,
  options: MigrationOptions,
): Promise<void> {
  const folder = localPathOf(before.location);
  let files: number;
  try {
    assertWritable(options.sandbox, folder, `moving ${displayName(table)} to partitions by ${KEY}`);
    files = await moveFiles(connection, before, after, options);
  } catch (error) {
    throw new WarehouseMigrationError(
      `${displayName(table)} in ${folder} is partitioned by ${TYPE}, as before docs/decisions/0089, and could not be ` +
        `moved to its partitions by ${KEY}: ${describeError(error)}. No row is lost: the files not yet moved are ` +
        'where they were; fix the cause and open the state folder again (etl run or etl sql) to go on',
      { cause: error },
    );
  }
  options.notice?.(
    `moved ${displayName(table)} to its partitions by ${KEY}, ${TYPE} kept as data (docs/decisions/0089): ` +
      `${files} Parquet file(s) rewritten in ${folder}`,
  );
}

/**
 * A table queries/ declares anew over a folder that still holds files of the old layout: the catalog was lost (an
 * unreadable warehouse file is moved aside and a new one started, local/warehouse-file.ts) after the state
 * folder was made. The files are moved before the table is registered, so no view is made of a half-moved table.
 */
export async function migrateDeclaredTable(
  connection: DuckDBConnection,
  table: TableName,
  declared: TableDefinition,
  options: MigrationOptions = {},
): Promise<void> {
  const before = TABLES.has(table.name) ? layoutBeforeTypeKeys(declared) : undefined;
  if (before === undefined) return;
  const folder = localPathOf(declared.location);
  const typeAt = before.partitionColumns.indexOf(TYPE);
  const old = (await filesBelow(folder)).some((file) => isOldLayoutFile(folder, file, before, typeAt));
  if (!old) return;
  await moveTable(connection, table, before, declared, options);
}

function isOldLayoutFile(folder: string, file: string, before: TableDefinition, typeAt: number): boolean {
  const parts = relative(folder, file).split(sep);
  return (
    parts.length === before.partitionColumns.length + 1 &&
    (parts[typeAt]?.startsWith(`${TYPE}=`) ?? false) &&
    file.endsWith('.parquet')
  );
}

const TypeRowSchema = z.object({ type: z.string() });

async function moveFiles(
  connection: DuckDBConnection,
  before: TableDefinition,
  after: TableDefinition,
  options: MigrationOptions,
): Promise<number> {
  const folder = localPathOf(before.location);
  const typeAt = before.partitionColumns.indexOf(TYPE);
  const staging = join(dirname(folder), '.staging', `${basename(folder)}.0089`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const hiveTypes = partitionColumnDefinitions(before)
    .map((column) => `${quoteLiteral(column.name)}: ${quoteLiteral(column.type)}`)
    .join(', ');
  const columns = dataColumns(after)
    .map((column) => quoteIdentifier(column.name))
    .join(', ');
  const codec = before.codec ?? DEFAULT_PARQUET_CODEC;
  let moved = 0;
  for (const file of (await filesBelow(folder)).sort()) {
    if (!isOldLayoutFile(folder, file, before, typeAt)) continue;
    const parts = relative(folder, file).split(sep);
    // The partition values come from the file's folders, decoded as the table's view decodes them.
    const read = `read_parquet(${quoteLiteral(file)}, hive_partitioning = true, hive_types = {${hiveTypes}}, hive_types_autocast = false)`;
    // As UTF-8 bytes in hex: the type exactly, whatever the client's text decoding would do to it.
    const typed = await connection.runAndReadAll(
      `SELECT hex(encode(${quoteIdentifier(TYPE)})) AS type FROM ${read} LIMIT 1`,
    );
    const [row] = typed.getRowObjectsJS();
    if (row !== undefined) {
      const type = Buffer.from(TypeRowSchema.parse(row).type, 'hex').toString('utf8');
      const staged = join(staging, `${randomUUID()}.parquet`);
      await connection.run(
        `COPY (SELECT ${columns} FROM ${read}) TO ${quoteLiteral(staged)} (FORMAT parquet, COMPRESSION ${codec})`,
      );
      await syncFile(staged);
      const target = join(
        folder,
        ...parts.map((part, index) => (index === typeAt ? `${KEY}=${partitionKeyOf(type)}` : part)),
      );
      await mkdir(dirname(target), { recursive: true });
      await rename(staged, target);
    }
    // A file without rows (no writer of the pipeline makes one) holds nothing to move.
    await rm(file);
    moved += 1;
    options.afterFile?.(moved);
  }
  await removeEmptyFolders(folder);
  await rm(staging, { recursive: true, force: true });
  return moved;
}

/** Removes the folders below `folder` that hold nothing any more (the old partitions), deepest first. */
async function removeEmptyFolders(folder: string): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const child = join(folder, entry.name);
    await removeEmptyFolders(child);
    if ((await readdir(child)).length === 0) await rmdir(child);
  }
}
