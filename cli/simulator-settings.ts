import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { DEFAULT_FLEET } from '../simulator/index.js';
import { UsageError } from './args.js';

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

function settingsFile(stateDir: string): string {
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

const shareFlag = z
  .string()
  .regex(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/, 'expected a share between 0 and 1, e.g. 0.3')
  .transform(Number);
const wholeFlag = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `expected at least ${min}`).max(max, `expected at most ${max}`));
const failPageFlag = z
  .string()
  .regex(/^(vehicles|sensors):[1-9]\d{0,6}$/, 'expected DATASET:PAGE, e.g. sensors:3')
  .transform((text) => {
    const [dataset, page] = text.split(':');
    return {
      dataset: dataset === 'vehicles' ? ('vehicles' as const) : ('sensors' as const),
      page: Number(page),
    };
  });

/**
 * The simulator's fault knobs as command-line flags, the same on `etl sim` and `etl run` (cli/common-flags.ts). They
 * change how the API behaves, not the world it serves, so they are not recorded in simulator.json.
 */
export const FaultFlagsSchema = z.object({
  'throttle-rate': shareFlag.optional(),
  'error-rate': shareFlag.optional(),
  'truncate-rate': shareFlag.optional(),
  'token-ttl': wholeFlag(1, 86_400).optional(),
  latency: wholeFlag(0, 60_000).optional(),
  'rate-limit': z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'expected requests per second, e.g. 20 (0: no limit)')
    .transform(Number)
    .optional(),
  'fail-page': z.array(failPageFlag).optional(),
  'fault-seed': wholeFlag(0, 2 ** 31 - 1).optional(),
});
export type FaultFlags = z.infer<typeof FaultFlagsSchema>;

/** The simulator options the fault flags set; flags not given keep the simulator's defaults (no faults). */
export function faultOptions(flags: FaultFlags) {
  return {
    ...(flags['throttle-rate'] === undefined ? {} : { throttleRate: flags['throttle-rate'] }),
    ...(flags['error-rate'] === undefined ? {} : { errorRate: flags['error-rate'] }),
    ...(flags['truncate-rate'] === undefined ? {} : { truncateRate: flags['truncate-rate'] }),
    ...(flags['token-ttl'] === undefined ? {} : { tokenTtlSeconds: flags['token-ttl'] }),
    ...(flags.latency === undefined ? {} : { latencyMs: flags.latency }),
    ...(flags['rate-limit'] === undefined ? {} : { rateLimit: flags['rate-limit'] }),
    ...(flags['fail-page'] === undefined ? {} : { failPages: flags['fail-page'] }),
    ...(flags['fault-seed'] === undefined ? {} : { faultSeed: flags['fault-seed'] }),
  };
}

/** Which fault flags were given, for refusing them where there is no simulator (`etl run --source`). */
export function givenFaultFlags(flags: FaultFlags): string[] {
  return Object.keys(FaultFlagsSchema.shape)
    .filter((name) => Object.hasOwn(flags, name) && Reflect.get(flags, name) !== undefined)
    .map((name) => `--${name}`);
}

/** One line saying which faults are on, or undefined when none is. */
export function describeFaults(flags: FaultFlags): string | undefined {
  const parts = [
    flags['throttle-rate'] && `throttling ${pct(flags['throttle-rate'])}`,
    flags['error-rate'] && `failing ${pct(flags['error-rate'])}`,
    flags['truncate-rate'] && `truncating ${pct(flags['truncate-rate'])}`,
    flags['token-ttl'] && `tokens expiring every ${flags['token-ttl']} s`,
    flags.latency && `${flags.latency} ms latency`,
    flags['rate-limit'] && `${flags['rate-limit']} requests/s limit`,
    flags['fail-page'] &&
      `always failing ${flags['fail-page'].map((f) => `${f.dataset} page ${f.page}`).join(', ')}`,
  ].filter((part): part is string => typeof part === 'string');
  return parts.length === 0 ? undefined : parts.join(', ');
}

function pct(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}
