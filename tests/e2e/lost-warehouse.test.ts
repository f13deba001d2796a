import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { lastJsonLine, runEtl } from '../helpers/etl-process.js';

/**
 * The local catalog (`warehouse.duckdb`) only describes tables whose data is in the lake: losing it (deleted,
 * corrupted and removed, a state folder copied without it) must not lose the warehouse. The SQL files declare every
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

async function twoNights(loseWarehouseBetween: boolean): Promise<z.infer<typeof RunSchema>> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'fleet-etl-lost-warehouse-'));
  folders.push(stateDir);
  const first = await runEtl(['run', '--date', '2026-11-24', '--state-dir', stateDir, ...FLEET, '--json']);
  expect(first.exitCode).toBe(0);
  if (loseWarehouseBetween) rmSync(path.join(stateDir, 'warehouse.duckdb'));
  const second = await runEtl(['run', '--date', '2026-11-25', '--state-dir', stateDir, ...FLEET, '--json']);
  expect({ exitCode: second.exitCode, stderr: second.stderr.slice(-500) }).toMatchObject({ exitCode: 0 });
  return RunSchema.parse(lastJsonLine(second.stdout));
}

describe('a state folder whose warehouse.duckdb was lost', () => {
  it('runs the next night over the tables already in the lake: same coverage, same answer, vehicles still known', async () => {
    const kept = await twoNights(false);
    const lost = await twoNights(true);

    expect(lost.coverage).toEqual({ nights: 2, firstRun: '2026-11-24', lastRun: '2026-11-25' });
    // The first night's vehicles are still joinable: readings of known vehicles are not dropped.
    expect(lost.unknownVehicles).toEqual(kept.unknownVehicles);
    expect(lost.results).toEqual(kept.results);
  }, 120_000);
});
