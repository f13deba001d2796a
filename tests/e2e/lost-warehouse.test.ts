// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${database} is the SQL placeholder syntax, not a template.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { lastJsonLine, runEtl } from '../helpers/etl-process.js';

/**
 * The local catalog (`warehouse.duckdb`) only describes tables whose data is in the lake: losing it (deleted,
 * overwritten, a state folder copied without it) must not lose the warehouse nor stop the nights. The SQL files declare every
 * table `IF NOT EXISTS` over its lake location, so the next run declares them again over the files already there.
 */

const FLEET = ['--vehicles', '30', '--readings', '40'];
const RunSchema = z.object({
  status: z.literal('succeeded'),
  coverage: z.object({ nights: z.number(), firstRun: z.string(), lastRun: z.string() }),
  unknownVehicles: z.object({ readings: z.number(), unknownVehicleReadings: z.number() }),
  results: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
});

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

type Loss = 'none' | 'deleted' | 'overwritten';

async function twoNights(
  loss: Loss,
): Promise<{ run: z.infer<typeof RunSchema>; stderr: string; files: string[] }> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'fleet-etl-lost-warehouse-'));
  folders.push(stateDir);
  const first = await runEtl(['run', '--date', '2026-11-24', '--state-dir', stateDir, ...FLEET, '--json']);
  expect(first.exitCode).toBe(0);
  const warehouse = path.join(stateDir, 'warehouse.duckdb');
  if (loss === 'deleted') rmSync(warehouse);
  // Another file's bytes where the database was (a bad restore, a disk): DuckDB refuses to open it.
  if (loss === 'overwritten') writeFileSync(warehouse, randomBytes(8192));
  const second = await runEtl(['run', '--date', '2026-11-25', '--state-dir', stateDir, ...FLEET, '--json']);
  expect({ exitCode: second.exitCode, stderr: second.stderr.slice(-500) }).toMatchObject({ exitCode: 0 });
  return {
    run: RunSchema.parse(lastJsonLine(second.stdout)),
    stderr: second.stderr,
    files: readdirSync(stateDir),
  };
}

/** What `etl sql --json` answers: its last stdout line. */
const SqlAnswerSchema = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.record(z.string(), z.unknown())),
});

describe('a state folder whose warehouse.duckdb was lost', () => {
  it('answers etl sql over the tables already in the lake, as before the loss, declaring them again', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'fleet-etl-lost-warehouse-sql-'));
    folders.push(stateDir);
    const first = await runEtl(['run', '--date', '2026-11-24', '--state-dir', stateDir, ...FLEET, '--json']);
    expect(first.exitCode).toBe(0);
    const warehouse = path.join(stateDir, 'warehouse.duckdb');
    // A warehouse table, a raw table and the answer's summary: every kind of table the SQL files declare.
    const query =
      'SELECT (SELECT count(*) FROM ${database}.sensor_data) AS readings, ' +
      "(SELECT count(*) FROM ${database}.raw_vehicles WHERE run = '2026-11-24') AS raw_vehicles, " +
      '(SELECT sum(measurements) FROM ${database}.vehicle_day_intervals) AS measured';
    const sql = async () => {
      const outcome = await runEtl(['sql', '--state-dir', stateDir, '--json', query]);
      return { ...outcome, answer: SqlAnswerSchema.parse(lastJsonLine(outcome.stdout)) };
    };
    const before = await sql();
    expect(before.exitCode).toBe(0);
    expect(before.answer.rows[0]).toMatchObject({ readings: expect.any(Number) });
    expect(Number(before.answer.rows[0]?.readings)).toBeGreaterThan(0);

    rmSync(warehouse);
    const deleted = await sql();
    expect({ exitCode: deleted.exitCode, answer: deleted.answer }).toEqual({
      exitCode: 0,
      answer: before.answer,
    });
    expect(deleted.stderr).toMatch(
      /no catalog at .*warehouse\.duckdb, but the lake holds data: made a new catalog and declared the tables of queries\/ again .*fleet_etl\.sensor_data/,
    );

    writeFileSync(warehouse, randomBytes(8192));
    const overwritten = await sql();
    expect({ exitCode: overwritten.exitCode, answer: overwritten.answer }).toEqual({
      exitCode: 0,
      answer: before.answer,
    });
    expect(overwritten.stderr).toMatch(/moved it to .*warehouse\.duckdb\.unreadable-/);

    // The catalog made again is kept: the next etl sql finds it and declares nothing.
    const again = await sql();
    expect(again.answer).toEqual(before.answer);
    expect(again.stderr).not.toMatch(/no catalog/);
  }, 120_000);

  it('runs the next night over the tables already in the lake: same coverage, same answer, vehicles still known', async () => {
    const { run: kept } = await twoNights('none');
    const { run: lost } = await twoNights('deleted');

    expect(lost.coverage).toEqual({ nights: 2, firstRun: '2026-11-24', lastRun: '2026-11-25' });
    // The first night's vehicles are still joinable: readings of known vehicles are not dropped.
    expect(lost.unknownVehicles).toEqual(kept.unknownVehicles);
    expect(lost.results).toEqual(kept.results);

    // Unreadable rather than gone: moved aside with a warning, and the night runs as if it had been deleted.
    const overwritten = await twoNights('overwritten');
    expect(overwritten.stderr).toMatch(
      /warning: .*warehouse\.duckdb is not a DuckDB database this version can read .*moved it to .*warehouse\.duckdb\.unreadable-/,
    );
    expect(overwritten.files.filter((f) => f.startsWith('warehouse.duckdb.unreadable-'))).toHaveLength(1);
    expect(overwritten.run.coverage).toEqual(lost.coverage);
    expect(overwritten.run.results).toEqual(kept.results);
  }, 180_000);
});
