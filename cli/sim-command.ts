import { SIMULATOR_PATHS, startSimulator } from '../simulator/index.js';
import { flagsSchema, parseFlags } from './command-spec.js';
import { simSpec } from './sim-spec.js';
import { describeFaults, faultOptions } from './simulator-settings.js';

/** What `etl sim` runs with when given no flags is what its declaration's schemas give. */
export const SimFlagsSchema = flagsSchema(simSpec.flags);

/** Serves the simulated fleet API until SIGINT/SIGTERM, for pointing other tools (or curl) at it. */
export async function simCommand(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(simSpec, argv);
  const simulator = await startSimulator({
    port: flags.port,
    seed: flags.seed,
    vehicles: flags.vehicles,
    readingsPerVehicle: flags.readings,
    fleetStart: flags['fleet-start'],
    ...faultOptions(flags),
  });
  const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const faults = describeFaults(flags);
  process.stdout.write(
    [
      `fleet API simulator on ${simulator.url} (seed ${flags.seed}, ${flags.vehicles} vehicles since ${flags['fleet-start']})`,
      `  token:    POST ${SIMULATOR_PATHS.token}  (client_credentials, client fleet-etl-local / local-secret)`,
      `  vehicles: GET  ${SIMULATOR_PATHS.vehicles}?fromCreationDate=${day}T00:00:00Z&toCreationDate=...&timeZone=UTC&pageSize=50000&page=1`,
      `  sensors:  GET  ${SIMULATOR_PATHS.sensors}?...same parameters`,
      faults === undefined ? '  faults:   none' : `  faults:   ${faults}`,
      'Ctrl-C stops it (and prints what it saw).',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await simulator.close();
  process.stdout.write(`${JSON.stringify(simulator.stats())}\n`);
  return 0;
}
