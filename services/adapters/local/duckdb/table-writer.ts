import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import * as z from 'zod';
import { systemErrorCode } from '../../../shared/errors.js';
import { syncFile } from '../sync-file.js';
import { AthenaRuleError } from './bridge-errors.js';
import { localPathOf } from './local-locations.js';
import { quoteIdentifier, quoteLiteral } from './sql-literals.js';
import type { TableDefinition } from './table-definition.js';
import { DEFAULT_PARQUET_CODEC } from './table-formats.js';

/**
 * Re-runs must not duplicate rows. Athena's INSERT INTO only ever appends, and delivery is at least once, so
 * the local engine makes a write idempotent per run: every Parquet file a CTAS or INSERT INTO writes for a
 * run is named `run-<runId>_<n>.parquet`, and before writing, the engine deletes the files that run wrote
 * before in the table's location. Running a run's files again leaves the same rows; another run appends its
 * own files and never touches the first run's. The price: within one run, a table is written by one
 * statement; a second INSERT of the same run into the same table replaces the first one's rows.
 */
function runFilePattern(runId: string): string {
  return `run-${runId}_{i}`;
}

function isRunFile(fileName: string, runId: string): boolean {
  return runOfFile(fileName) === runId;
}

/** Run ids are letters, digits and dashes (RunIdSchema), so `_` ends the run id unambiguously. */
const RUN_FILE = /^run-([0-9A-Za-z-]+)_\d+\.parquet$/;

/** The run that wrote a table's Parquet file, from its name; undefined for a file the engine did not name. */
export function runOfFile(fileName: string): string | undefined {
  return RUN_FILE.exec(fileName)?.[1];
}

/** Athena's limit on partitions one CTAS or INSERT INTO may write (HIVE_TOO_MANY_OPEN_PARTITIONS). */
export const MAX_PARTITIONS_PER_WRITE = 100;

export async function deleteRunFiles(definition: TableDefinition, runId: string): Promise<number> {
  const files = (await filesBelow(localPathOf(definition.location))).filter((path) =>
    isRunFile(path.slice(path.lastIndexOf('/') + 1), runId),
  );
  await Promise.all(files.map((path) => rm(path, { force: true })));
  return files.length;
}

/**
 * Whether any file below a folder has the extension, at any depth: what the readers' recursive globs find.
 * Walks depth first and stops at the first match, so asking costs a few directory reads, not a query.
 */
export async function hasFileWithExtension(folder: string, extension: string): Promise<boolean> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    const code = systemErrorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw error;
  }
  if (entries.some((entry) => entry.isFile() && entry.name.endsWith(`.${extension}`))) return true;
  for (const entry of entries) {
    if (entry.isDirectory() && (await hasFileWithExtension(join(folder, entry.name), extension))) return true;
  }
  return false;
}

/** Every file below a folder, as absolute paths; none when the folder does not exist yet. */
export async function filesBelow(folder: string): Promise<string[]> {
  try {
    const entries = await readdir(folder, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') {
      return [];
    }
    throw error;
  }
}

const CopyResultSchema = z.object({ Count: z.bigint(), Files: z.array(z.string()) });

export interface WrittenFiles {
  rows: number;
  files: string[];
}

/**
 * Writes the rows of `select` (the table's columns, in table order) as Snappy/GZIP/... Parquet under the
 * table's location: Hive-style folders per partition (`days=2024-03-10/vehicle_type=truck/`), named after
 * the run. The caller deletes the run's earlier files first (deleteRunFiles). With `partitionLimit`, a write
 * of more partitions is refused before any file reaches the table, as Athena refuses a CTAS of more than 100;
 * an INSERT INTO has no limit here because the Athena engine splits it into INSERTs of up to 100
 * (athena-partition-batches.ts). Files appear in the table whole or not at all.
 */
export async function writeRunFiles(
  connection: DuckDBConnection,
  definition: TableDefinition,
  select: string,
  runId: string,
  partitionLimit = Number.POSITIVE_INFINITY,
): Promise<WrittenFiles> {
  const folder = localPathOf(definition.location);
  await mkdir(folder, { recursive: true });
  // DuckDB writes where it is told, file by file: a process killed (or a disk full) mid-COPY would leave empty or
  // cut Parquet files in the table, and every later read of it fails ("too small to be a Parquet file"). So the
  // COPY writes into a staging folder beside the table, which no table reads; only whole, synced files are then
  // renamed into place (a rename within one file system is atomic). A killed write leaves only staging, which
  // the next write into the table removes (clearStaging).
  const staging = join(stagingRoot(folder), randomUUID());
  await mkdir(staging, { recursive: true });
  try {
    const written = await copyInto(connection, definition, select, runId, staging);
    const partitions = new Set(written.files.map((file) => dirname(file)));
    if (definition.partitionColumns.length > 0 && partitions.size > partitionLimit) {
      throw new AthenaRuleError(
        `HIVE_TOO_MANY_OPEN_PARTITIONS: the CTAS wrote ${partitions.size} partitions; Athena allows ` +
          `${partitionLimit} per CTAS: create the table WITH NO DATA and fill it with INSERT INTO ` +
          '(https://docs.aws.amazon.com/athena/latest/ug/ctas-insert-into.html)',
      );
    }
    const files: string[] = [];
    for (const file of written.files) {
      await syncFile(file);
      const target = join(folder, relative(staging, file));
      await mkdir(dirname(target), { recursive: true });
      await rename(file, target);
      files.push(target);
    }
    return { rows: written.rows, files };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Where a table's writes are staged: beside the table's folder, never below it (its readers glob below it). */
function stagingRoot(tableFolder: string): string {
  return join(dirname(tableFolder), '.staging', basename(tableFolder));
}

/** Removes what killed writes left staged for this table; called before writing, by the only writer. */
export async function clearStaging(definition: TableDefinition): Promise<void> {
  await rm(stagingRoot(localPathOf(definition.location)), { recursive: true, force: true });
}

async function copyInto(
  connection: DuckDBConnection,
  definition: TableDefinition,
  select: string,
  runId: string,
  staging: string,
): Promise<WrittenFiles> {
  const options = [
    'FORMAT parquet',
    `COMPRESSION ${definition.codec ?? DEFAULT_PARQUET_CODEC}`,
    `FILENAME_PATTERN ${quoteLiteral(runFilePattern(runId))}`,
    'RETURN_FILES true',
  ];
  const partitioned = definition.partitionColumns.length > 0;
  if (partitioned) {
    options.push(`PARTITION_BY (${definition.partitionColumns.map(quoteIdentifier).join(', ')})`);
  }
  const target = partitioned
    ? staging
    : join(staging, `${runFilePattern(runId).replace('{i}', '0')}.parquet`);
  const reader = await connection.runAndReadAll(
    `COPY (${select}) TO ${quoteLiteral(target)} (${options.join(', ')})`,
  );
  const [row] = reader.getRowObjectsJS();
  const copied = CopyResultSchema.parse(row);
  return { rows: Number(copied.Count), files: copied.Files };
}
