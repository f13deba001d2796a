import { isAbsolute, join, relative, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SandboxError } from './bridge-errors.js';
import { quoteLiteral } from './sql-literals.js';

/**
 * What the SQL of a state folder may touch: files below its lake (the raw NDJSON and the warehouse's Parquet) and
 * nothing else on the machine, written only below the warehouse, with no extension installed or loaded. The SQL
 * can come from a GitHub folder or be typed into `etl sql`, and DuckDB would otherwise read any file
 * (`read_text('/etc/passwd')`), write Parquet anywhere a table's LOCATION points and download extensions.
 */
export interface SqlSandbox {
  /** The state folder's lake: the only folder DuckDB may open files in. */
  lake: string;
  /** Where tables may be written (a folder below the lake). */
  warehouse: string;
}

/**
 * DuckDB's own confinement (https://duckdb.org/docs/stable/operations_manual/securing_duckdb/overview): with
 * external access off, only the allowed directories can be opened; the configuration is then locked, so no
 * statement can lift it. Spilled data goes to a folder inside the lake, which no table reads.
 */
export async function confineToLake(connection: DuckDBConnection, sandbox: SqlSandbox): Promise<void> {
  const lake = resolve(sandbox.lake);
  for (const setting of [
    `SET temp_directory = ${quoteLiteral(join(lake, '.duckdb-tmp'))}`,
    `SET allowed_directories = [${quoteLiteral(`${lake}/`)}]`,
    'SET enable_external_access = false',
    'SET autoinstall_known_extensions = false',
    'SET autoload_known_extensions = false',
    'SET lock_configuration = true',
  ]) {
    await connection.run(setting);
  }
}

/** Refuses a table write whose folder is not below the warehouse: the lake's raw pages stay as the API sent them. */
export function assertWritable(sandbox: SqlSandbox | undefined, folder: string, what: string): void {
  if (sandbox === undefined) return;
  const warehouse = resolve(sandbox.warehouse);
  const below = relative(warehouse, resolve(folder));
  if (below === '' || below.startsWith('..') || isAbsolute(below)) {
    throw new SandboxError(
      `${what}: ${folder} is outside the warehouse (${warehouse}); the local engine writes tables only below it`,
    );
  }
}
