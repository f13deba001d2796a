import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import * as z from 'zod';
import { RunIdSchema } from '../../../../events/index.js';
import type { QueryEngine, StatementContext, StatementResult } from '../../../ports/query-engine.js';
import { splitStatements } from '../../../shared/sql-text.js';
import type { translateStatement } from './athena-bridge.js';
import { LocalQueryError, localQueryFailure } from './bridge-errors.js';
import { confineToLake, type SqlSandbox } from './duckdb-sandbox.js';
import { keepLeadingByteOrderMarks } from './duckdb-text.js';
import { type LocalCatalog, openLocalCatalog } from './local-catalog.js';
import { PlanExecutor } from './plan-executor.js';
import { type ScanMeter, startScanMeter } from './scan-meter.js';
import { firstLine } from './sql-tokens.js';
import { ViewRefresher } from './table-views.js';
import { installTrinoFunctions } from './trino-functions.js';
import { type MigrationOptions, migrateWarehouse } from './warehouse-migration.js';

export interface DuckDbQueryEngineOptions {
  /** A DuckDB file in the local state folder, so that tables and the catalog persist between runs. */
  databasePath: string;
  /** Confines the SQL to the state folder's lake (duckdb-sandbox.ts); `etl run` and `etl sql` always set it. */
  sandbox?: SqlSandbox;
  /** Lines for the operator: what opening the state folder changed in it (warehouse-migration.ts). */
  notice?: (line: string) => void;
  /** For tests that stop a migration part-way. */
  migration?: Pick<MigrationOptions, 'afterFile'>;
}

export interface DuckDbQueryEngine extends QueryEngine {
  /** Waits for the statement in flight, then releases the DuckDB file. */
  close(): Promise<void>;
}

/**
 * Trino semantics DuckDB does not share by default, pinned for the session whatever the machine says.
 * Athena runs queries in UTC; Trino divides integers as integers (7 / 2 = 3, -7 / 2 = -3) and sorts NULLs
 * last in both directions.
 *
 * Joins build their hash table on the right side as written, as Trino does without table statistics (hence the
 * habit, kept in queries/, of the big table on the left). DuckDB would otherwise swap sides by its cardinality
 * estimates, and it has none for JSON: it guesses a few thousand rows for a day of ten million raw readings and
 * built the hash table on them, which cost 3× the time and about 700 MiB at 10 million rows
 * (docs/decisions/0050).
 */
const SESSION_SETTINGS: readonly string[] = [
  "SET TimeZone = 'UTC'",
  'SET integer_division = true',
  "SET default_null_order = 'nulls_last'",
  "SET disabled_optimizers = 'build_side_probe_side'",
];

/**
 * DuckDB's own memory, capped (its default is 80% of the machine's). `etl run` holds the pipeline and the
 * simulator's thread (about 400-550 MiB at ten million readings) when the SQL runs, and the repeated-rows check
 * groups every reading of the night (queries/15): uncapped, DuckDB's hash table took the process to 1.2-1.3 GiB at
 * ten million readings. Above the cap, DuckDB spills to its temporary folder (in the lake, duckdb-sandbox.ts); at
 * ten million readings that cost no measurable CPU (decision 94).
 */
const DUCKDB_MEMORY_LIMIT = '384MB';

const StatementContextSchema = z.object({
  runId: RunIdSchema,
  file: z.string().min(1),
  statementIndex: z.number().int().min(0),
  // The local engine replaces a run's files whatever the attempt (table-writer.ts); it is validated only.
  attempt: z.string().min(1),
});

/**
 * The local QueryEngine: runs Athena statements on DuckDB through the bridge (athena-bridge.ts). Statements
 * run one at a time, in call order, on one connection; catalog changes and file writes are never interleaved.
 */
export async function createDuckDbQueryEngine(options: DuckDbQueryEngineOptions): Promise<DuckDbQueryEngine> {
  const translator = loadTranslator();
  await mkdir(dirname(options.databasePath), { recursive: true });
  keepLeadingByteOrderMarks();
  const instance = await DuckDBInstance.create(options.databasePath);
  const connection = await instance.connect();
  let session: { catalog: LocalCatalog; meter: ScanMeter };
  try {
    session = await openSession(connection, options);
  } catch (error) {
    // The file stays locked while the instance is open: a caller that retries (or the next test) could not open it.
    connection.closeSync();
    instance.closeSync();
    throw error;
  }
  const { catalog, meter } = session;
  const views = new ViewRefresher(connection, catalog);
  const executor = new PlanExecutor(connection, catalog, views, options.sandbox, options.notice);

  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  const serialised = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };

  return {
    execute: (sql, context) =>
      serialised(async () => {
        if (closed) {
          throw new LocalQueryError('the DuckDB query engine is closed');
        }
        return executeStatement(await translator, executor, meter, sql, context);
      }),
    close: () =>
      serialised(async () => {
        if (!closed) {
          closed = true;
          connection.closeSync();
          instance.closeSync();
        }
      }),
  };
}

/** Pins the session's semantics, reads the catalog, and brings a state folder of an older layout up to date. */
async function openSession(
  connection: DuckDBConnection,
  options: DuckDbQueryEngineOptions,
): Promise<{ catalog: LocalCatalog; meter: ScanMeter }> {
  for (const setting of [...SESSION_SETTINGS, `SET memory_limit = '${DUCKDB_MEMORY_LIMIT}'`]) {
    await connection.run(setting);
  }
  await installTrinoFunctions(connection);
  const catalog = await openLocalCatalog(connection);
  const meter = await startScanMeter(connection);
  if (options.sandbox) await confineToLake(connection, options.sandbox);
  // Before any view is made: a table half moved by a killed migration can be read as neither layout.
  await migrateWarehouse(connection, catalog, {
    ...options.migration,
    sandbox: options.sandbox,
    notice: options.notice,
  });
  return { catalog, meter };
}

type Translate = typeof translateStatement;

/**
 * The SQL transpiler is 20 MB of WebAssembly: loading it and warming it up (trino-dialect.ts) costs about 0.35 s of
 * CPU on this thread. It is loaded when the engine is created but not waited for: the engine is ready once DuckDB
 * is, and `etl run` fetches the night's pages meanwhile, which leaves this thread idle between pages; the first
 * statement waits for it (decision 94). A failure to load is that statement's failure.
 */
let translatorLoading: Promise<Translate> | undefined;

function loadTranslator(): Promise<Translate> {
  // One load per process, and one module at a time: athena-bridge.js imports trino-dialect.js itself, and two
  // imports of one module graph in flight at once can fail under jest's ES module linker ("can not be resolved on
  // module ... that is not linked", seen in CI on Node.js 24 when two engines start together).
  translatorLoading ??= (async () => {
    const bridge = await import('./athena-bridge.js');
    const dialect = await import('./trino-dialect.js');
    dialect.warmUpTranslator();
    return bridge.translateStatement;
  })();
  // Awaited at the first statement; an engine closed before any must not leave an unhandled rejection.
  translatorLoading.catch(() => undefined);
  return translatorLoading;
}

async function executeStatement(
  translateStatement: Translate,
  executor: PlanExecutor,
  meter: ScanMeter,
  sql: string,
  rawContext: StatementContext,
): Promise<StatementResult> {
  const started = performance.now();
  const parsedContext = StatementContextSchema.safeParse(rawContext);
  if (!parsedContext.success) {
    throw new LocalQueryError(`invalid statement context: ${parsedContext.error.message}`);
  }
  const context = parsedContext.data;
  const where = `${context.file} statement ${context.statementIndex}`;
  const statements = splitStatements(sql);
  const [statement] = statements;
  if (statement === undefined || statements.length !== 1) {
    throw new LocalQueryError(`${where}: expected exactly one statement, got ${statements.length}`);
  }
  try {
    await meter.reset();
    const result = await executor.run(translateStatement(statement), context.runId);
    return {
      queryExecutionId: queryExecutionId(context),
      dataScannedBytes: await meter.bytesRead(),
      durationMs: Math.round(performance.now() - started),
      ...(result ? { result } : {}),
    };
  } catch (error) {
    throw localQueryFailure(`${where} (${firstLine(statement)})`, error);
  }
}

/** Readable in logs and unique per execution, as Athena's ids are: `local-<run>-<file>-<index>-<random>`. */
function queryExecutionId(context: StatementContext): string {
  const file = context.file.replace(/\.sql$/, '').replace(/[^0-9A-Za-z_-]/g, '-');
  return `local-${context.runId}-${file}-${context.statementIndex}-${randomUUID().slice(0, 8)}`;
}
