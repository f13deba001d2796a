import { appendFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DateWindow } from '../../events/index.js';
import { type RunSummary, runPipelineLocally } from '../../local/run-pipeline.js';
import type { ExtraConsumer, LocalRuntimeOptions } from '../../local/runtime.js';
import { FleetApiSource } from '../../services/adapters/http/fleet-api-source.js';
import { createDuckDbQueryEngine } from '../../services/adapters/local/duckdb/duckdb-query-engine.js';
import type { FleetSource, SourceStats } from '../../services/ports/fleet-source.js';
import { jsonLogger } from '../../services/shared/logger.js';
import type { SensorRow, VehicleRow } from '../../services/shared/rows.js';
import { dayWindow } from '../../services/shared/run-identity.js';
import { seedApiConfig } from '../../services/source-config/index.js';
import {
  creationWindow,
  type RunningSimulator,
  type SimulatorOptions,
  startSimulator,
} from '../../simulator/index.js';

/** One night of a small fleet, paged small: a dozen pages, so faults land on several of them. */
export const DAY = '2026-11-24';
export const PAGE_SIZE = 100;
export const FLEET = { seed: 19, vehicles: 24, readingsPerVehicle: 80, fleetStart: DAY } as const;
/** Distinctive, so that the secrets scan cannot miss them: none may appear in any output of a run. */
export const CLIENT_ID = 'fleet-etl-faults';
export const CLIENT_SECRET = 'S3cr3t-faults-7f1c9e2b4a';
export const ROTATED_SECRET = 'R0tated-faults-0d8e6a1f3c';
const SECRET_NAME = 'fleet-api/client-secret';

/** The secret store of a run: the source reads it by name each time it asks for a token; rotation changes it. */
export class MutableSecrets {
  constructor(public value: string = CLIENT_SECRET) {}
  async get(): Promise<string> {
    return this.value;
  }
}

export interface FaultRunOptions {
  simulator?: Partial<SimulatorOptions>;
  /** A state folder to reuse (a resumed run); a fresh one otherwise. */
  stateDir?: string;
  decoratePorts?: LocalRuntimeOptions['decoratePorts'];
  /** Wraps the source the runtime gets (e.g. to rotate credentials after some pages). */
  decorateSource?: (
    source: FleetSource,
    context: { simulator: RunningSimulator; secrets: MutableSecrets },
  ) => FleetSource;
  consumers?: readonly ExtraConsumer[];
  /** The Glue database / DuckDB schema the SQL placeholders get (hostile values in the bad-input suite). */
  database?: string;
  /** Rewrites a page body on its way from the API (hostile rows); `page` is the page number asked for. */
  rewritePage?: (dataset: string, page: number, body: string) => string;
  /** Seconds of retries the source may spend on one page (default 8): a page that always fails ends sooner. */
  retryBudgetMs?: number;
}

export interface FaultRun {
  summary: RunSummary;
  stateDir: string;
  simulator: ReturnType<RunningSimulator['stats']>;
  source: SourceStats;
  /** Every access token the simulator issued to the run, for the secrets scan. */
  tokens: string[];
  /** The rows the simulator holds for the night, straight from its generator. */
  world: { vehicles: VehicleRow[]; sensors: SensorRow[] };
  window: DateWindow;
}

/** Records the access tokens of token responses as they pass, so the scan can look for them. */
function recordingFetch(tokens: string[], rewritePage?: FaultRunOptions['rewritePage']): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = new URL(String(input));
    const dataset = url.pathname.split('/').at(-1) ?? '';
    if (rewritePage && response.ok && (dataset === 'vehicles' || dataset === 'sensors')) {
      const body = rewritePage(dataset, Number(url.searchParams.get('page')), await response.text());
      return new Response(body, { status: response.status, headers: response.headers });
    }
    if (String(input).endsWith('/oauth/token') && response.ok) {
      const body = (await response.clone().json()) as { access_token?: unknown };
      if (typeof body.access_token === 'string') tokens.push(body.access_token);
    }
    return response;
  };
}

export function freshStateDir(name = 'faults'): string {
  return mkdtempSync(path.join(tmpdir(), `etl-${name}-`));
}

/**
 * One whole local night, in process, against the simulator with the given faults: the runtime, the handlers and
 * DuckDB as `etl run` uses them, with the ports decorated by the scenario.
 */
export async function faultRun(options: FaultRunOptions = {}): Promise<FaultRun> {
  const stateDir = options.stateDir ?? freshStateDir();
  const simulator = await startSimulator({
    ...FLEET,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    ...options.simulator,
  });
  const tokens: string[] = [];
  const secrets = new MutableSecrets();
  const logs = path.join(stateDir, 'logs', 'services.ndjson');
  mkdirSync(path.dirname(logs), { recursive: true });
  const apiSource = new FleetApiSource({
    config: seedApiConfig(simulator.url, {
      clientId: CLIENT_ID,
      clientSecretName: SECRET_NAME,
      rateBudget: { maxConcurrentRequests: 4, requestsPerSecond: 1_000 },
      retry: { maxElapsedMs: options.retryBudgetMs ?? 8_000 },
    }),
    secrets,
    fetch: recordingFetch(tokens, options.rewritePage),
    logger: jsonLogger('fleetSource', (line) => appendFileSync(logs, `${line}\n`)),
  });
  const source = options.decorateSource?.(apiSource, { simulator, secrets }) ?? apiSource;
  const engine = await createDuckDbQueryEngine({ databasePath: path.join(stateDir, 'warehouse.duckdb') });
  const w = dayWindow(DAY);
  const world = {
    vehicles: [...simulator.world.rows('vehicles', creationWindow(w.from, w.to))],
    sensors: [...simulator.world.rows('sensors', creationWindow(w.from, w.to))],
  };
  try {
    const summary = await runPipelineLocally({
      date: DAY,
      stateDir,
      source,
      engine,
      pageSize: PAGE_SIZE,
      ...(options.database ? { database: options.database } : {}),
      ...(options.decoratePorts ? { decoratePorts: options.decoratePorts } : {}),
      ...(options.consumers ? { consumers: options.consumers } : {}),
    });
    return {
      summary,
      stateDir,
      simulator: simulator.stats(),
      source: apiSource.stats(),
      tokens: [...new Set([...tokens, ...simulator.issuedTokens()])],
      world,
      window: summary.window,
    };
  } finally {
    await engine.close();
    await simulator.close();
  }
}

/** A clock that runs `factor` times faster than the wall clock from now on: the provider's tokens expire early. */
export function fastClock(factor: number): { now(): Date } {
  const start = Date.now();
  return { now: () => new Date(start + (Date.now() - start) * factor) };
}
