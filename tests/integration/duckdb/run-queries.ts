import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createDuckDbQueryEngine,
  type DuckDbQueryEngine,
  type DuckDbQueryEngineOptions,
} from '../../../services/adapters/local/duckdb/duckdb-query-engine.js';
import type { JsonValue, ResultSet } from '../../../services/ports/query-engine.js';
import {
  renderPlaceholders,
  SqlPlaceholderValuesSchema,
  splitStatements,
} from '../../../services/shared/sql-text.js';

const QUERIES = join(process.cwd(), 'queries');

/** A throwaway local state: a DuckDB file and a lake folder with raw/ and warehouse/. */
export interface LocalLake {
  root: string;
  rawRoot: string;
  warehouseRoot: string;
  databasePath: string;
  engine: DuckDbQueryEngine;
}

export async function localLake(): Promise<LocalLake> {
  const root = await mkdtemp(join(tmpdir(), 'fleet-etl-duckdb-'));
  const databasePath = join(root, 'state', 'etl.duckdb');
  return {
    root,
    rawRoot: join(root, 'lake', 'raw'),
    warehouseRoot: join(root, 'lake', 'warehouse'),
    databasePath,
    engine: await createDuckDbQueryEngine({ databasePath }),
  };
}

/** The same state folder with its engine closed and opened again (as the next `etl run` opens it). */
export async function reopened(
  lake: LocalLake,
  options: Omit<DuckDbQueryEngineOptions, 'databasePath'> = {},
): Promise<LocalLake> {
  await lake.engine.close();
  return { ...lake, engine: await createDuckDbQueryEngine({ ...options, databasePath: lake.databasePath }) };
}

/**
 * Runs the real queries/ files for a run, in lexical order, as the query runner does: placeholders rendered,
 * split into statements, each executed with its context. Returns the last file's result set.
 */
export async function runQueryFiles(lake: LocalLake, runId: string, folder = QUERIES): Promise<ResultSet> {
  const values = SqlPlaceholderValuesSchema.parse({
    database: 'fleet',
    raw_location: pathToFileURL(lake.rawRoot).href,
    warehouse_location: pathToFileURL(lake.warehouseRoot).href,
    run_id: runId,
    run_date: runId,
  });
  const files = (await readdir(folder)).filter((name) => name.endsWith('.sql')).sort();
  let last: ResultSet | undefined;
  for (const file of files) {
    const statements = splitStatements(
      renderPlaceholders(await readFile(join(folder, file), 'utf8'), values),
    );
    for (const [statementIndex, sql] of statements.entries()) {
      last = (await lake.engine.execute(sql, { runId, file, statementIndex, attempt: 'test' })).result;
    }
  }
  if (!last) {
    throw new Error('the last SQL file returned no result set');
  }
  return last;
}

/** Runs one ad-hoc query and returns its rows. */
export async function query(engine: DuckDbQueryEngine, sql: string): Promise<Record<string, JsonValue>[]> {
  const outcome = await engine.execute(sql, {
    runId: 'adhoc',
    file: 'adhoc.sql',
    statementIndex: 0,
    attempt: 'adhoc',
  });
  return outcome.result?.rows ?? [];
}

/** Every file below a folder, relative to it, sorted. */
export async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(folder.length + 1))
    .sort();
}
