import * as z from 'zod';
import { DEFAULT_FLEET } from '../simulator/index.js';
import { wholeNumber } from './args.js';
import type { FlagSpec } from './command-spec.js';
import { FaultFlagsSchema } from './simulator-settings.js';
import { DEFAULT_WAIT_SECONDS, waitSeconds } from './state-folder.js';

/** Flags several commands share, declared once so that they read the same everywhere. */

export const stateDirFlag = {
  schema: z.string().min(1).default('.etl'),
  value: 'DIR',
  help: 'the state folder: lake, warehouse, ledger, queue, event archive, logs',
} satisfies FlagSpec;

export const jsonFlag = {
  schema: z.boolean().default(false),
  help: 'print one JSON object as the last line on stdout instead of a table',
} satisfies FlagSpec;

/** `--wait SECONDS`: how long to wait for another etl process using the state folder. */
export const waitFlag = (seconds = DEFAULT_WAIT_SECONDS) =>
  ({
    schema: waitSeconds(seconds),
    value: 'SECONDS',
    help: 'wait this long for another etl process using the state folder, then exit 2 (0: refuse at once)',
  }) satisfies FlagSpec;

const FLEET_LIMITS = { vehicles: [1, 1_000_000], readings: [1, 100_000], seed: [0, 2 ** 31 - 1] } as const;

const FLEET_HELP = {
  vehicles: 'vehicles in the simulated fleet',
  readings: 'readings per vehicle per day in the simulated fleet',
  seed: 'seed of the simulated fleet: the same seed, the same data',
} as const;

/**
 * The size of the simulated fleet. `etl run` and `etl schedule` reuse what the state folder recorded on its first
 * run (absent means "as recorded"); `etl sim` starts a fleet of its own (absent means the default).
 */
export const recordedFleetFlags = {
  vehicles: {
    schema: wholeNumber(...FLEET_LIMITS.vehicles).optional(),
    value: 'N',
    help: FLEET_HELP.vehicles,
    defaultText: `${DEFAULT_FLEET.vehicles}, or what <state-dir>/simulator.json recorded`,
  },
  readings: {
    schema: wholeNumber(...FLEET_LIMITS.readings).optional(),
    value: 'N',
    help: FLEET_HELP.readings,
    defaultText: `${DEFAULT_FLEET.readingsPerVehicle}, or what <state-dir>/simulator.json recorded`,
  },
  seed: {
    schema: wholeNumber(...FLEET_LIMITS.seed).optional(),
    value: 'N',
    help: FLEET_HELP.seed,
    defaultText: `${DEFAULT_FLEET.seed}, or what <state-dir>/simulator.json recorded`,
  },
} satisfies Record<string, FlagSpec>;

export const ownFleetFlags = {
  vehicles: {
    schema: wholeNumber(...FLEET_LIMITS.vehicles).default(DEFAULT_FLEET.vehicles),
    value: 'N',
    help: FLEET_HELP.vehicles,
  },
  readings: {
    schema: wholeNumber(...FLEET_LIMITS.readings).default(DEFAULT_FLEET.readingsPerVehicle),
    value: 'N',
    help: FLEET_HELP.readings,
  },
  seed: {
    schema: wholeNumber(...FLEET_LIMITS.seed).default(DEFAULT_FLEET.seed),
    value: 'N',
    help: FLEET_HELP.seed,
  },
} satisfies Record<string, FlagSpec>;

const fault = FaultFlagsSchema.shape;

/** The simulator's fault knobs, the same on `etl run` and `etl sim` (simulator/README.md). */
export const faultFlags = {
  'throttle-rate': {
    schema: fault['throttle-rate'],
    value: 'P',
    help: 'share of page requests answered 429 with Retry-After (0 to 1)',
  },
  'error-rate': {
    schema: fault['error-rate'],
    value: 'P',
    help: 'share of page requests answered 500 or 503 (0 to 1)',
  },
  'truncate-rate': {
    schema: fault['truncate-rate'],
    value: 'P',
    help: 'share of page bodies cut off in the middle of a row (0 to 1)',
  },
  'token-ttl': {
    schema: fault['token-ttl'],
    value: 'S',
    help: 'access tokens expire after S seconds',
    defaultText: '3600',
  },
  latency: { schema: fault.latency, value: 'MS', help: 'every response waits MS milliseconds first' },
  'rate-limit': {
    schema: fault['rate-limit'],
    value: 'RPS',
    help: 'page requests beyond RPS per second get 429 (0: no limit)',
  },
  'fail-page': {
    schema: fault['fail-page'],
    value: 'DATASET:PAGE',
    multiple: true,
    help: 'this page always answers 400, e.g. sensors:3',
  },
  'fault-seed': { schema: fault['fault-seed'], value: 'N', help: 'seed of the fault draws' },
} satisfies Record<string, FlagSpec>;
