import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import type { RunSummary } from '../../../local/run-pipeline.js';
import type { SensorRow, VehicleRow } from '../../../services/shared/rows.js';
import { dayWindow } from '../../../services/shared/run-identity.js';
import { creationWindow, FleetWorld } from '../../../simulator/index.js';
import { type EtlOutcome, runEtl } from '../../helpers/etl-process.js';
import { CLIENT_ID, CLIENT_SECRET, DAY, FLEET, freshStateDir, PAGE_SIZE } from '../harness.js';
import type { CheckedRun } from '../invariants.js';
import type { HostileOptions, HostileStats } from './hostile-options.js';
import { type HostileApi, startHostileApi } from './hostile-process.js';

const SECRET_VARIABLE = 'FLEET_ETL_SECRET_HOSTILE_CLIENT_SECRET';
const DAY_MS = 86_400_000;

/**
 * The rows the hostile API holds: the fault suite's fleet (harness.ts FLEET) over the night before, the night and
 * the night after, in the order the simulator's generator gives them. The API pages what its filters select of
 * them, or (ignoring the filters) all of them; `night` is what a correct API sends for the run's window.
 */
export interface HostileWorld {
  all: { vehicles: VehicleRow[]; sensors: SensorRow[] };
  night: { vehicles: VehicleRow[]; sensors: SensorRow[] };
}

export function hostileWorld(): HostileWorld {
  const generator = new FleetWorld(FLEET);
  const night = dayWindow(DAY);
  const from = Date.parse(night.from);
  const around = creationWindow(from - DAY_MS, from + 2 * DAY_MS);
  const all = {
    vehicles: [...generator.rows('vehicles', around)],
    sensors: [...generator.rows('sensors', around)],
  };
  const inNight = (row: { created_at: string }) =>
    row.created_at >= new Date(from).toISOString() && row.created_at < new Date(from + DAY_MS).toISOString();
  return { all, night: { vehicles: all.vehicles.filter(inNight), sensors: all.sensors.filter(inNight) } };
}

/** `etl run --json`'s last line; a night that failed before the pipeline could report has only the first fields. */
const RunOutputSchema = z.object({
  runId: z.string(),
  status: z.enum(['succeeded', 'failed']),
  window: z.object({ from: z.string(), to: z.string(), timeZone: z.string() }),
  failures: z.array(z.string()),
  datasets: z.record(z.string(), z.object({ pages: z.number(), rows: z.number() })).default({}),
  outsideWindow: z.record(z.string(), z.number()).default({}),
  unmappedFields: z.record(z.string(), z.number()).default({}),
  lake: z.object({ raw: z.string(), warehouse: z.string() }).default({ raw: '', warehouse: '' }),
  report: z.string().nullable().default(null),
  results: z.record(z.string(), z.array(z.record(z.string(), z.any()))).default({}),
  coverage: z
    .object({ nights: z.number(), firstRun: z.string(), lastRun: z.string() })
    .default({ nights: 0, firstRun: '', lastRun: '' }),
  durationMs: z.number().default(0),
  maxRssBytes: z.number().optional(),
  source: z
    .object({
      pageRequests: z.number(),
      retries: z.number(),
      transientFailures: z.record(z.string(), z.number()),
    })
    .optional(),
});
export type RunOutput = z.infer<typeof RunOutputSchema>;

/** A night of `etl run` against the hostile API: what the invariants read, and what the API and the process said. */
export interface HostileRun extends CheckedRun {
  api: HostileStats;
  output: RunOutput;
  process: EtlOutcome;
  /** Wall time of the `etl run` process alone. */
  seconds: number;
}

export interface HostileNightOptions {
  behaviour: HostileOptions['behaviour'];
  /** Merged into the `--source` file's `sensors` and `vehicles` entries (e.g. `checks`). */
  dataset?: Record<string, unknown>;
  /** Per request, body included (the source file's requestTimeoutMs). */
  requestTimeoutMs?: number;
}

/**
 * Starts the hostile API in its own process, runs `etl run --source` (the real command, in another process, as
 * users run it) against it for the suite's night, and collects what the invariants need. The API is stopped after.
 */
export async function hostileNight(world: HostileWorld, options: HostileNightOptions): Promise<HostileRun> {
  const api = await startHostileApi({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    lifetimeSeconds: 300,
    rows: world.all,
    behaviour: options.behaviour,
  });
  try {
    return await nightAgainst(api, world, options);
  } finally {
    await api.stop();
  }
}

async function nightAgainst(
  api: HostileApi,
  world: HostileWorld,
  options: HostileNightOptions,
): Promise<HostileRun> {
  const stateDir = freshStateDir('hostile');
  const configFile = path.join(stateDir, 'config', 'source.json');
  mkdirSync(path.dirname(configFile), { recursive: true });
  const dataset = (endpoint: string) => ({ endpoint, ...options.dataset });
  writeFileSync(
    configFile,
    JSON.stringify({
      baseUrl: api.url,
      auth: { tokenUrl: '/oauth/token', clientId: CLIENT_ID, clientSecretName: 'hostile/client-secret' },
      rateBudget: { maxConcurrentRequests: 4, requestsPerSecond: 1_000 },
      // Quick retries: the suite's scenarios must end in seconds, the waits are not what they test.
      retry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 200, maxElapsedMs: 8_000 },
      requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
      datasets: { vehicles: dataset('/v1/vehicles'), sensors: dataset('/v1/sensors') },
    }),
  );
  const started = performance.now();
  const outcome = await runEtl(
    [
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
    { env: { ...process.env, [SECRET_VARIABLE]: CLIENT_SECRET }, timeoutMs: 120_000 },
  );
  const seconds = (performance.now() - started) / 1000;
  const stats = await api.stats();
  const output = lastLine(outcome);
  const results: RunSummary['results'] = {};
  for (const [name, rows] of Object.entries(output.results)) {
    results[name] = { columns: Object.keys(rows[0] ?? {}), rows };
  }
  return {
    summary: { ...output, results, report: output.report ?? '' },
    stateDir,
    world: world.night,
    tokens: stats.tokensIssued,
    api: stats,
    output,
    process: outcome,
    seconds,
  };
}

function lastLine(outcome: EtlOutcome): RunOutput {
  const line = outcome.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return RunOutputSchema.parse(JSON.parse(line));
  } catch (error) {
    throw new Error(
      `etl run ended (exit ${String(outcome.exitCode)}, signal ${String(outcome.signal)}) without its --json line:\n` +
        outcome.stderr.slice(-4_000),
      { cause: error },
    );
  }
}
