import { existsSync, readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { BUNDLED_QUERIES } from '../local/run-pipeline.js';
import { sqlSandboxOf, stateLayout } from '../local/runtime.js';
import { declareTablesAgain, openWarehouseFile } from '../local/warehouse-file.js';
import {
  createDuckDbQueryEngine,
  type DuckDbQueryEngine,
} from '../services/adapters/local/duckdb/duckdb-query-engine.js';
import { FolderSqlSource } from '../services/adapters/local/folder-sql-source.js';
import type { ResultSet } from '../services/ports/query-engine.js';
import { describeError, systemErrorCode } from '../services/shared/errors.js';
import {
  renderPlaceholders,
  SqlPlaceholderValuesSchema,
  splitStatements,
} from '../services/shared/sql-text.js';
import { UsageError } from './args.js';
import { type ParsedFlags, parseCommandLine } from './command-spec.js';
import { renderTable } from './render.js';
import { sqlSpec } from './sql-spec.js';
import { holdStateFolder } from './state-folder.js';

/**
 * Why `etl sql` waits for an `etl run` rather than reading beside it. Checked with @duckdb/node-api 1.5: a
 * READ_ONLY open fails with "Could not set lock on file" while another process has the file open to write.
 */
const CANNOT_SHARE =
  'DuckDB lets no other process open warehouse.duckdb while one has it open, not even to read it';

/** The database `etl run` creates its tables in (run-pipeline.ts). */
const LOCAL_DATABASE = 'fleet_etl';

type SqlFlags = ParsedFlags<(typeof sqlSpec)['flags']>;

/**
 * `etl sql "<Athena SQL>"`: runs Athena SQL on the local warehouse (`<state-dir>/warehouse.duckdb`) through the
 * same bridge as `etl run`, and prints each result as a table; with --json the last line on stdout is the last
 * statement's `{"columns": [...], "rows": [...]}`. Several statements separated by `;` run in order. The
 * placeholders of queries/ can be used: `${database}`, `${raw_location}`, `${warehouse_location}`, and with
 * --date, `${run_id}` and `${run_date}`. Returns the exit code: 0, 1 when a statement fails.
 */
export async function sqlCommand(argv: readonly string[]): Promise<number> {
  const { flags, sql } = parseSqlArgs(argv);
  const layout = stateLayout(flags['state-dir']);
  let statements: string[];
  try {
    statements = splitStatements(renderPlaceholders(sql, placeholderValues(layout, flags.date)));
  } catch (error) {
    // An unknown placeholder or an unterminated quote is a mistake in what was typed.
    throw error instanceof UsageError ? error : new UsageError(describeError(error));
  }
  if (statements.length === 0) throw new UsageError('the SQL text holds no statement');

  // A state folder that does not exist has nothing to protect (and is not created by a query).
  const lock = existsSync(layout.root)
    ? await holdStateFolder(flags['state-dir'], ['sql', ...argv], flags.wait, CANNOT_SHARE)
    : undefined;
  try {
    return await runStatements(layout, statements, flags.json);
  } finally {
    lock?.release();
  }
}

type Layout = ReturnType<typeof stateLayout>;

async function runStatements(layout: Layout, statements: readonly string[], json: boolean): Promise<number> {
  const engine = await openEngine(layout);
  if (engine === undefined) return 1;
  try {
    let last: ResultSet = { columns: [], rows: [] };
    for (const [statementIndex, statement] of statements.entries()) {
      const outcome = await engine.execute(statement, {
        runId: 'adhoc',
        file: 'etl-sql.sql',
        statementIndex,
        attempt: 'etl-sql',
      });
      last = outcome.result ?? { columns: [], rows: [] };
      report(
        outcome.result,
        outcome.durationMs,
        statements.length > 1 ? statementIndex + 1 : undefined,
        json,
      );
    }
    if (json) process.stdout.write(`${JSON.stringify({ columns: last.columns, rows: last.rows })}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`etl sql: ${describeError(error)}\n`);
    return 1;
  } finally {
    await engine.close();
  }
}

/**
 * The warehouse's catalog, or an empty in-memory database when there is no warehouse yet. A catalog lost while the
 * lake holds data (warehouse.duckdb deleted, or unreadable: moved aside) is made again, as `etl run` makes it: the
 * bundled queries/ declare their tables over the lake, where the data is; nothing is written to the lake.
 */
async function openEngine(layout: Layout): Promise<DuckDbQueryEngine | undefined> {
  const open = (databasePath: string) =>
    createDuckDbQueryEngine({
      databasePath,
      sandbox: sqlSandboxOf(layout),
      notice: (line) => process.stderr.write(`etl sql: ${line}\n`),
    });
  const lakeHoldsData = holdsEntries(layout.raw) || holdsEntries(layout.warehouse);
  if (!existsSync(layout.duckdb) && !lakeHoldsData) {
    process.stderr.write(
      `etl sql: no warehouse at ${layout.duckdb} yet; running on an empty in-memory database\n`,
    );
    return open(':memory:');
  }
  let opened: Awaited<ReturnType<typeof openWarehouseFile>>;
  try {
    opened = await openWarehouseFile(
      layout.duckdb,
      () => open(layout.duckdb),
      (line) => process.stderr.write(`etl sql: warning: ${line}\n`),
    );
  } catch (error) {
    const message = describeError(error);
    const busy = /lock/i.test(message) ? ' (is an `etl run` using this state folder?)' : '';
    process.stderr.write(`etl sql: cannot open ${layout.duckdb}${busy}: ${message}\n`);
    return undefined;
  }
  if (!opened.fresh) return opened.engine;
  try {
    const source = new FolderSqlSource(BUNDLED_QUERIES);
    const files = await source.list(await source.pin());
    const tables = await declareTablesAgain(opened.engine, files, placeholderValues(layout, undefined));
    process.stderr.write(
      `etl sql: no catalog at ${layout.duckdb}, but the lake holds data: made a new catalog and declared the ` +
        `tables of queries/ again over the lake, where their data is: ${tables.join(', ')}. Tables of another ` +
        '--sql-source come back when a night runs with it (etl run --date <night> --sql-source ...)\n',
    );
    return opened.engine;
  } catch (error) {
    await opened.engine.close();
    process.stderr.write(
      `etl sql: no catalog at ${layout.duckdb}, and declaring the tables of queries/ again failed: ` +
        `${describeError(error)}; \`etl run --date <night>\` of any night declares them again\n`,
    );
    return undefined;
  }
}

/** Whether a folder holds anything; a folder that does not exist holds nothing. */
function holdsEntries(folder: string): boolean {
  try {
    return readdirSync(folder).length > 0;
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** The SQL text is the one operand; `--` before it lets it start with `-`. */
function parseSqlArgs(argv: readonly string[]): { flags: SqlFlags; sql: string } {
  const { flags, operands } = parseCommandLine(sqlSpec, argv, { operands: true });
  const [sql, ...extra] = operands;
  if (sql === undefined || sql.trim() === '') {
    throw new UsageError(`give the SQL as one argument: etl sql ${sqlSpec.usage[0]}`);
  }
  if (extra.length > 0) {
    throw new UsageError(`give the SQL as one (quoted) argument; got ${operands.length} arguments`);
  }
  return { flags, sql };
}

function placeholderValues(layout: ReturnType<typeof stateLayout>, date: string | undefined) {
  const location = (path: string) => pathToFileURL(path).href.replace(/\/+$/, '');
  const values = {
    database: LOCAL_DATABASE,
    raw_location: location(layout.raw),
    warehouse_location: location(layout.warehouse),
    ...(date === undefined ? {} : { run_id: date, run_date: date }),
  };
  // The same validation as the query runner's: a state folder whose path could break out of a literal is refused.
  const checked = SqlPlaceholderValuesSchema.partial({ run_id: true, run_date: true }).safeParse(values);
  if (!checked.success) {
    throw new UsageError(`cannot use this state folder in SQL: ${checked.error.issues[0]?.message ?? ''}`);
  }
  return Object.fromEntries(
    Object.entries(checked.data).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

function report(
  result: ResultSet | undefined,
  durationMs: number,
  position: number | undefined,
  json: boolean,
): void {
  const label = position === undefined ? '' : `statement ${position}: `;
  if (result === undefined) {
    process.stderr.write(`${label}done in ${durationMs} ms\n`);
    return;
  }
  if (!json) {
    process.stdout.write(`${renderTable(result.columns, result.rows)}\n`);
  }
  const rows = result.rows.length;
  process.stderr.write(`${label}${rows} row${rows === 1 ? '' : 's'} in ${durationMs} ms\n`);
}
