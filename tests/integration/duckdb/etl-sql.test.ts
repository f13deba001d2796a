// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${database} is the SQL placeholder syntax, not a template.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../../cli/args.js';
import { sqlCommand } from '../../../cli/sql-command.js';
import { stateLayout } from '../../../local/runtime.js';
import { createDuckDbQueryEngine } from '../../../services/adapters/local/duckdb/duckdb-query-engine.js';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `etl sql` with stdout and stderr captured. */
async function etlSql(...argv: string[]): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const write = (into: string[]) =>
    ((chunk: string | Uint8Array) => {
      into.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
  const original = {
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  };
  process.stdout.write = write(out);
  process.stderr.write = write(err);
  try {
    const code = await sqlCommand(argv);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = original.out;
    process.stderr.write = original.err;
  }
}

describe('etl sql', () => {
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'etl-sql-'));
    // A warehouse as `etl run` leaves it: the fleet_etl database with a table.
    const engine = await createDuckDbQueryEngine({ databasePath: stateLayout(stateDir).duckdb });
    const context = { runId: 'setup', file: 'setup.sql', statementIndex: 0, attempt: 'setup' };
    await engine.execute('CREATE DATABASE fleet_etl', context);
    await engine.execute(
      "CREATE VIEW fleet_etl.readings AS SELECT * FROM (VALUES ('bus', 7), ('van', 2), ('bus', NULL)) AS t (vehicle_type, n)",
      context,
    );
    await engine.close();
  }, 30_000);

  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('prints the answer as a table, with Trino semantics, placeholders filled', async () => {
    const run = await etlSql(
      'SELECT vehicle_type, sum(n) / 2 AS half FROM ${database}.readings GROUP BY vehicle_type ORDER BY 1',
      '--state-dir',
      stateDir,
    );

    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      'vehicle_type  half\n------------  ----\nbus              3\nvan              1\n',
    );
    expect(run.stderr).toMatch(/^2 rows in \d+ ms\n$/);
  }, 30_000);

  it('with --json, ends stdout with the last statement’s columns and rows as objects', async () => {
    const run = await etlSql(
      '--json',
      '--state-dir',
      stateDir,
      "SELECT 1 AS ignored; SELECT vehicle_type, n, date '2024-03-10' AS day FROM fleet_etl.readings ORDER BY n",
    );

    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(JSON.parse(lines.at(-1) ?? '')).toEqual({
      columns: ['vehicle_type', 'n', 'day'],
      rows: [
        { vehicle_type: 'van', n: 2, day: '2024-03-10' },
        { vehicle_type: 'bus', n: 7, day: '2024-03-10' },
        { vehicle_type: 'bus', n: null, day: '2024-03-10' },
      ],
    });
  }, 30_000);

  it('answers an empty result for a statement without rows', async () => {
    const run = await etlSql('--json', '--state-dir', stateDir, 'CREATE SCHEMA IF NOT EXISTS scratch');

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toEqual({ columns: [], rows: [] });
  }, 30_000);

  it('exits 1 with the engine’s reason when a statement fails', async () => {
    const run = await etlSql('--state-dir', stateDir, 'SELECT * FROM fleet_etl.nowhere');

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^etl sql: .*nowhere/);
  }, 30_000);

  it('runs on an empty in-memory database when the state folder has no warehouse yet', async () => {
    const run = await etlSql(
      '--json',
      '--state-dir',
      join(stateDir, 'fresh'),
      "SELECT day_of_week(DATE '2024-03-10') AS d",
    );

    expect(run.code).toBe(0);
    expect(run.stderr).toContain('no warehouse at');
    expect(JSON.parse(run.stdout.trim())).toEqual({ columns: ['d'], rows: [{ d: 7 }] });
  }, 30_000);

  it.each([
    [[], /give the SQL as one argument/],
    [['SELECT 1', 'SELECT 2'], /one \(quoted\) argument/],
    [['--date', '2024-02-30', 'SELECT 1'], /--date: expected a calendar date/],
    [['--verbose', 'SELECT 1'], /verbose/],
    [['SELECT ${run_id}'], /no value for placeholder\(s\) \$\{run_id\}/],
    [["SELECT 'unterminated"], /unterminated string literal/],
  ])('refuses %p', async (argv, message) => {
    const running = sqlCommand(argv);
    await expect(running).rejects.toThrow(message);
    await expect(sqlCommand(argv)).rejects.toBeInstanceOf(
      argv[0] === 'SELECT ${run_id}' ? Error : UsageError,
    );
  });

  it('fills ${run_id} when given --date', async () => {
    const run = await etlSql(
      '--json',
      '--state-dir',
      stateDir,
      '--date',
      '2024-03-10',
      "SELECT '${run_id}' AS run",
    );

    expect(JSON.parse(run.stdout.trim())).toEqual({ columns: ['run'], rows: [{ run: '2024-03-10' }] });
  }, 30_000);
});
