import * as z from 'zod';
import { SIMULATOR_PATHS, startSimulator } from '../simulator/index.js';
import {
  DEFAULT_FLEET,
  describeFaults,
  FAULT_FLAGS,
  FaultFlagsSchema,
  faultOptions,
} from '../simulator-settings.js';
import { parseFlags, wholeNumber } from './args.js';

export const SimFlagsSchema = z
  .object({
    port: wholeNumber(0, 65_535).default(8_080),
    vehicles: wholeNumber(1, 1_000_000).default(DEFAULT_FLEET.vehicles),
    readings: wholeNumber(1, 100_000).default(DEFAULT_FLEET.readingsPerVehicle),
    seed: wholeNumber(0, 2 ** 31 - 1).default(DEFAULT_FLEET.seed),
    'fleet-start': z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
      .default(() => new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10)),
  })
  .extend(FaultFlagsSchema.shape);

/** Serves the simulated fleet API until SIGINT/SIGTERM, for pointing other tools (or curl) at it. */
export async function simCommand(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(
    argv,
    {
      port: { type: 'string' },
      vehicles: { type: 'string' },
      readings: { type: 'string' },
      seed: { type: 'string' },
      'fleet-start': { type: 'string' },
      ...FAULT_FLAGS,
    },
    SimFlagsSchema,
  );
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
