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

describe('a state folder whose warehouse.duckdb was lost', () => {
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
