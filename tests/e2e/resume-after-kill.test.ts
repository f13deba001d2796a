import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { dayWindow } from '../../services/shared/run-identity.js';
import { creationWindow, type RunningSimulator, startSimulator } from '../../simulator/index.js';
import { expectedAnswer } from '../helpers/expected-answer.js';

const ETL = path.resolve('bin/etl.js');
const DAY = '2026-11-24';
const PAGE_SIZE = 1_000;
const FLEET = { seed: 11, vehicles: 40, readingsPerVehicle: 400, fleetStart: DAY };
const SECRET_VARIABLE = 'FLEET_ETL_SECRET_SIM_CLIENT_SECRET';

const OutputSchema = z.object({
  status: z.enum(['succeeded', 'failed']),
  datasets: z.record(z.string(), z.object({ pages: z.number(), rows: z.number() })),
  lake: z.object({ raw: z.string() }),
  results: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
});

/** Starts `etl run` against the test's simulator; `onStderr` sees progress lines as they come. */
function etlRun(
  stateDir: string,
  configFile: string,
  onStderr: (text: string, child: ChildProcess) => void = () => {},
) {
  const child = spawn(
    process.execPath,
    [
      ETL,
      'run',
      '--date',
      DAY,
      '--state-dir',
      stateDir,
      '--source',
      configFile,
      '--page-size',
      String(PAGE_SIZE),
      '--json',
    ],
    { env: { ...process.env, [SECRET_VARIABLE]: 'local-secret' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    onStderr(stderr, child);
  });
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

/** Every raw page object of the run with the inode it was written as: a rewrite gets a new inode (rename). */
function rawObjects(raw: string): Map<string, number> {
  const objects = new Map<string, number>();
  for (const dataset of ['vehicles', 'sensors']) {
    const dir = path.join(raw, dataset, `run=${DAY}`);
    for (const name of readdirSync(dir))
      objects.set(`${dataset}/${name}`, statSync(path.join(dir, name)).ino);
  }
  return objects;
}

describe('etl run killed with SIGKILL in the middle of downloading, then run again', () => {
  let simulator: RunningSimulator;
  const stateDir = mkdtempSync(path.join(tmpdir(), 'etl-kill-'));
  const configFile = path.join(stateDir, 'simulator.config.json');

  beforeAll(async () => {
    // Slow pages, so that the kill lands while downloads are in flight.
    simulator = await startSimulator({ ...FLEET, latencyMs: 150 });
    writeFileSync(
      configFile,
      JSON.stringify({
        baseUrl: simulator.url,
        auth: {
          tokenUrl: '/oauth/token',
          clientId: 'fleet-etl-local',
          clientSecretName: 'sim/client-secret',
        },
        rateBudget: { maxConcurrentRequests: 2, requestsPerSecond: 1_000 },
        datasets: { vehicles: { endpoint: '/v1/vehicles' }, sensors: { endpoint: '/v1/sensors' } },
      }),
    );
  });

  afterAll(() => simulator.close());

  it('finishes the run, downloading each page once overall, with the answer of an uninterrupted run', async () => {
    // Prepare: the rows the simulator holds for the night.
    const w = dayWindow(DAY);
    const vehicles = [...simulator.world.rows('vehicles', creationWindow(w.from, w.to))];
    const readings = [...simulator.world.rows('sensors', creationWindow(w.from, w.to))];
    const sensorPages = Math.ceil(readings.length / PAGE_SIZE);
    expect(sensorPages).toBeGreaterThan(6);

    // Act 1: kill -9 once three sensor pages are stored.
    const killed = await etlRun(stateDir, configFile, (stderr, child) => {
      if ((stderr.match(/stored sensors page/g) ?? []).length >= 3) child.kill('SIGKILL');
    });
    expect(killed.signal).toBe('SIGKILL');
    const raw = path.join(stateDir, 'lake', 'raw');
    const before = rawObjects(raw);
    expect(before.size).toBeGreaterThanOrEqual(3);
    expect(before.size).toBeLessThan(sensorPages + 1);

    // Act 2: the same command again.
    const resumed = await etlRun(stateDir, configFile);

    // Assess: the run finished, with every page stored once, and the pages stored before the kill kept.
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resuming run 2026-11-24/);
    const output = OutputSchema.parse(JSON.parse(resumed.stdout.trim().split('\n').at(-1) ?? ''));
    expect(output.status).toBe('succeeded');
    expect(output.datasets).toEqual({
      vehicles: { pages: 1, rows: vehicles.length },
      sensors: { pages: sensorPages, rows: readings.length },
    });
    const after = rawObjects(raw);
    expect(after.size).toBe(1 + sensorPages);
    for (const [key, inode] of before) expect(after.get(key)).toBe(inode);

    // The simulator's log agrees: besides one page-1 probe per planner and attempt, each page was asked for
    // once, except those whose request was in flight when the process died (at most the rate budget's two
    // concurrent requests): their answer was never stored.
    const { requests } = simulator.stats();
    const inFlightAtKill = requests.sensors + requests.vehicles - (1 + sensorPages) - 2 * 2;
    expect(inFlightAtKill).toBeGreaterThanOrEqual(0);
    expect(inFlightAtKill).toBeLessThanOrEqual(2);

    const answer = output.results.avg_seconds_between_measurements ?? [];
    const expected = expectedAnswer(vehicles, readings);
    expect(answer.map((r) => r.vehicle_type)).toEqual(expected.map((r) => r.vehicle_type));
    expected.forEach((row, i) => {
      expect(answer[i]?.avg_seconds_between_measurements).toBeCloseTo(
        row.avg_seconds_between_measurements,
        9,
      );
    });
  }, 240_000);
});
