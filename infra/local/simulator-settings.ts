import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from './cli/args.js';

/**
 * The simulated fleet a state folder was filled from. A warehouse accumulates night after night, so every run
 * into the same folder must see the same world: the settings are written on the first run and reused after.
 */
export const SimulatorSettingsSchema = z.object({
  seed: z.number().int(),
  vehicles: z.number().int().min(0),
  readingsPerVehicle: z.number().int().min(0),
  fleetStart: z.string(),
});
export type SimulatorSettings = z.infer<typeof SimulatorSettingsSchema>;

export const DEFAULT_FLEET = { seed: 42, vehicles: 200, readingsPerVehicle: 1_000 } as const;

export function settingsFile(stateDir: string): string {
  return path.join(stateDir, 'simulator.json');
}

/**
 * Settings for this run: the folder's recorded ones, which explicit flags may not contradict, or, on the first
 * run, the flags (or defaults) with the fleet starting on the day being run.
 */
export function resolveSimulatorSettings(
  stateDir: string,
  flags: Partial<Omit<SimulatorSettings, 'fleetStart'>> & { fleetStart?: string },
  firstDay: string,
): SimulatorSettings {
  const file = settingsFile(stateDir);
  let recorded: SimulatorSettings | undefined;
  try {
    recorded = SimulatorSettingsSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    if (!(typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT')) {
      throw new UsageError(`${file} is not valid simulator settings; delete it or use another --state-dir`);
    }
  }
  if (recorded) {
    for (const key of ['seed', 'vehicles', 'readingsPerVehicle', 'fleetStart'] as const) {
      const given = flags[key];
      if (given !== undefined && given !== recorded[key]) {
        throw new UsageError(
          `${stateDir} holds data simulated with ${key}=${recorded[key]}; mixing in ${key}=${given} would corrupt its ` +
            'warehouse. Use another --state-dir for another fleet.',
        );
      }
    }
    return recorded;
  }
  const settings: SimulatorSettings = {
    seed: flags.seed ?? DEFAULT_FLEET.seed,
    vehicles: flags.vehicles ?? DEFAULT_FLEET.vehicles,
    readingsPerVehicle: flags.readingsPerVehicle ?? DEFAULT_FLEET.readingsPerVehicle,
    fleetStart: flags.fleetStart ?? firstDay,
  };
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`);
  return settings;
}
