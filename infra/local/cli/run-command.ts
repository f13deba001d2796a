import { z } from 'zod';
import { FleetApiSource } from '../../../services/adapters/http/fleet-api-source.js';
import { createDuckDbQueryEngine } from '../../../services/adapters/local/duckdb/duckdb-query-engine.js';
import { EnvSecrets } from '../../../services/adapters/local/env-secrets.js';
import { parseDay } from '../../../services/shared/run-identity.js';
import { type RunSummary, relativeToCwd, runPipelineLocally } from '../run-pipeline.js';
import { stateLayout } from '../runtime.js';
import { SIMULATOR_PATHS, startSimulator } from '../simulator/index.js';
import { resolveSimulatorSettings } from '../simulator-settings.js';
import { parseFlags, wholeNumber } from './args.js';
import { renderTable } from './render.js';

const RunFlagsSchema = z.object({
  date: z
    .string()
    .refine((d) => {
      try {
        parseDay(d);
        return true;
      } catch {
        return false;
      }
    }, 'expected a calendar date YYYY-MM-DD')
    .optional(),
  'state-dir': z.string().min(1).default('.etl'),
  vehicles: wholeNumber(1, 1_000_000).optional(),
  readings: wholeNumber(1, 100_000).optional(),
  seed: wholeNumber(0, 2 ** 31 - 1).optional(),
  'page-size': wholeNumber(1, 50_000).default(50_000),
  json: z.boolean().default(false),
});

const yesterdayUtc = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

/** The simulator's OAuth client secret, as the fleet API source asks for it through the Secrets port. */
const CLIENT_SECRET_NAME = 'fleet-api/client-secret';

export async function runCommand(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(
    argv,
    {
      date: { type: 'string' },
      'state-dir': { type: 'string' },
      vehicles: { type: 'string' },
      readings: { type: 'string' },
      seed: { type: 'string' },
      'page-size': { type: 'string' },
      json: { type: 'boolean' },
    },
    RunFlagsSchema,
  );
  const date = flags.date ?? yesterdayUtc();
  const stateDir = flags['state-dir'];
  const settings = resolveSimulatorSettings(
    stateDir,
    { seed: flags.seed, vehicles: flags.vehicles, readingsPerVehicle: flags.readings },
    date,
  );
  const progress = (line: string) => process.stderr.write(`  ${line}\n`);
  process.stderr.write(`etl run ${date}: state in ${relativeToCwd(stateLayout(stateDir).root)}\n`);

  const simulator = await startSimulator({ ...settings });
  progress(
    `simulated fleet API on ${simulator.url}: ${settings.vehicles} vehicles since ${settings.fleetStart}, ` +
      `${settings.readingsPerVehicle} readings per vehicle per day, seed ${settings.seed}`,
  );
  const secrets = new EnvSecrets(process.env, { [CLIENT_SECRET_NAME]: 'local-secret' });
  const source = new FleetApiSource({
    baseUrl: simulator.url,
    tokenUrl: `${simulator.url}${SIMULATOR_PATHS.token}`,
    clientId: 'fleet-etl-local',
    clientSecret: () => secrets.get(CLIENT_SECRET_NAME),
  });
  const engine = await createDuckDbQueryEngine({ databasePath: stateLayout(stateDir).duckdb });
  let summary: RunSummary;
  try {
    summary = await runPipelineLocally({
      date,
      stateDir,
      source,
      engine,
      pageSize: flags['page-size'],
      onProgress: progress,
    });
  } finally {
    await engine.close();
    await simulator.close();
  }
  printSummary(summary, flags.json);
  return summary.status === 'succeeded' ? 0 : 1;
}

function printSummary(summary: RunSummary, json: boolean): void {
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const seconds = (summary.durationMs / 1000).toFixed(1);
  if (summary.status === 'succeeded') {
    process.stderr.write(`run ${summary.runId} succeeded in ${seconds} s\n`);
  } else {
    process.stderr.write(`run ${summary.runId} FAILED after ${seconds} s:\n`);
    for (const failure of summary.failures) process.stderr.write(`  - ${failure}\n`);
  }
  if (json) {
    out(
      JSON.stringify({
        runId: summary.runId,
        status: summary.status,
        window: summary.window,
        datasets: summary.datasets,
        lake: summary.lake,
        results: Object.fromEntries(Object.entries(summary.results).map(([name, r]) => [name, r.rows])),
        failures: summary.failures,
        durationMs: Math.round(summary.durationMs),
      }),
    );
    return;
  }
  for (const [name, result] of Object.entries(summary.results)) {
    out(`\n${name} (run ${summary.runId})\n`);
    out(renderTable(result.columns, result.rows));
  }
  out('');
  out(`raw NDJSON:        ${relativeToCwd(summary.lake.raw)}`);
  out(`Parquet warehouse: ${relativeToCwd(summary.lake.warehouse)}`);
}
