import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  BUNDLED_QUERIES,
  type RunSummary,
  relativeToCwd,
  runPipelineLocally,
} from '../local/run-pipeline.js';
import { type StateLayout, sqlSandboxOf, stateLayout } from '../local/runtime.js';
import { openWarehouse } from '../local/warehouse-file.js';
import { FleetApiSource } from '../services/adapters/http/fleet-api-source.js';
import type { DuckDbQueryEngine } from '../services/adapters/local/duckdb/duckdb-query-engine.js';
import { EnvSecrets } from '../services/adapters/local/env-secrets.js';
import { createSqlSource, sqlSourceConfigFromSpec } from '../services/adapters/sql-source-config.js';
import type { SourceStats } from '../services/ports/fleet-source.js';
import type { SqlSource } from '../services/ports/sql-source.js';
import { describeError } from '../services/shared/errors.js';
import { jsonLogger } from '../services/shared/logger.js';
import { formatCount } from '../services/shared/number-format.js';
import { runIdFor } from '../services/shared/run-identity.js';
import {
  daysBetween,
  loadSourceConfig,
  nightlyWindowIn,
  type RateBudget,
  type SourceConfig,
  SourceConfigError,
  scheduledTimeForDayIn,
  seedApiConfig,
} from '../services/source-config/index.js';
import type { SimulatorStats } from '../simulator/index.js';
import { UsageError } from './args.js';
import { type ParsedFlags, parseFlags } from './command-spec.js';
import { dateFilterWarnings } from './date-filter-warnings.js';
import { renderTable } from './render.js';
import { runSpec } from './run-spec.js';
import {
  describeFaults,
  faultOptions,
  givenFaultFlags,
  resolveSimulatorSettings,
} from './simulator-settings.js';
import { type SimulatorThread, startSimulatorThread } from './simulator-worker.js';
import { moment, type StageDurations, StageTimeline } from './stage-timeline.js';
import { holdStateFolder } from './state-folder.js';
import { refuseUnfinishedNights } from './unfinished-nights.js';
import { describeMissingNights, folderKeepsSummary, runsMissingFromSummary } from './unsummarised-nights.js';

type RunFlags = ParsedFlags<(typeof runSpec)['flags']>;

const yesterdayUtc = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

/** The simulator's OAuth client secret, as the fleet API source asks for it through the Secrets port. */
const CLIENT_SECRET_NAME = 'fleet-api/client-secret';
const SIMULATOR_CLIENT = { id: 'fleet-etl-local', secret: 'local-secret' } as const;
/** The simulator's nights are UTC days: seedApiConfig leaves the window's zone at the config's default. */
const SIMULATOR_TIME_ZONE = 'UTC';
/** A backfill runs one night at a time; more than ten years of nights is a typo. */
const MAX_NIGHTS = 3_660;

export async function runCommand(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(runSpec, argv);
  const days = nightsToRun(flags);
  // The simulator's zone is known now: refused before the state folder is waited for or written. A --source
  // file's zone is known once it is read (connectSource).
  if (flags.source === undefined && !flags['allow-future']) {
    refuseUnfinishedNights(days, SIMULATOR_TIME_ZONE, new Date());
  }
  const { sqlSource, sqlFolder } = localSqlSource(flags['sql-source']);
  if (flags.source !== undefined) {
    const simulatorOnly = [
      ...givenFaultFlags(flags),
      ...(['vehicles', 'readings', 'seed'] as const)
        .filter((f) => flags[f] !== undefined)
        .map((f) => `--${f}`),
    ];
    if (simulatorOnly.length > 0) {
      throw new UsageError(`${simulatorOnly.join(', ')} apply to the built-in simulator, not to --source`);
    }
  }
  // Everything below reads or writes the state folder: one process at a time (decision 71).
  const lock = await holdStateFolder(flags['state-dir'], ['run', ...argv], flags.wait);
  try {
    return await runNights(flags, days, sqlSource, sqlFolder);
  } finally {
    lock.release();
  }
}

const progress = (line: string) => process.stderr.write(`  ${line}\n`);

async function runNights(
  flags: RunFlags,
  days: readonly string[],
  sqlSource: SqlSource,
  sqlFolder: string | undefined,
): Promise<number> {
  const layout = stateLayout(flags['state-dir']);
  const connected = await connectSource(flags, days, layout);
  if (connected === undefined) return 2;
  try {
    if (sqlFolder !== undefined && (await folderKeepsSummary(sqlFolder))) {
      const refusal = await nightsMissingFromSummary(flags, days, layout, connected.config);
      if (refusal !== undefined) {
        process.stderr.write(`etl: ${refusal}\n`);
        await connected.engineOpening?.then(
          (engine) => engine.close(),
          () => undefined,
        );
        return 2;
      }
    }
    return await runWithSource(flags, days, sqlSource, layout, connected);
  } finally {
    // The simulator's thread keeps the process alive: however the run ends, even by an error, it is closed.
    await connected.simulator?.close();
  }
}

interface ConnectedSource {
  config: SourceConfig;
  secrets: EnvSecrets;
  /** The built-in simulator, when there is no --source. */
  simulator?: SimulatorThread;
  /** DuckDB, already opening while the simulator started. */
  engineOpening?: Promise<DuckDbQueryEngine>;
}

/** The API to pull from: --source FILE, or the built-in simulator started on its thread. Undefined: bad FILE. */
async function connectSource(
  flags: RunFlags,
  days: readonly string[],
  layout: ReturnType<typeof stateLayout>,
): Promise<ConnectedSource | undefined> {
  const budget: Partial<RateBudget> = {
    ...(flags.concurrency === undefined ? {} : { maxConcurrentRequests: flags.concurrency }),
    ...(flags['requests-per-second'] === undefined
      ? {}
      : { requestsPerSecond: flags['requests-per-second'] }),
  };
  if (flags.source !== undefined) {
    let config: SourceConfig;
    try {
      const loaded = await loadSourceConfig(flags.source);
      config = { ...loaded, rateBudget: { ...loaded.rateBudget, ...budget } };
      if (!flags['allow-future']) refuseUnfinishedNights(days, config.window.timeZone, new Date());
    } catch (error) {
      if (!(error instanceof SourceConfigError)) throw error;
      process.stderr.write(`etl: ${error.message}\n`);
      return undefined;
    }
    process.stderr.write(`etl run ${describeNights(days)}: state in ${relativeToCwd(layout.root)}\n`);
    progress(
      `source ${flags.source}: vehicles ${config.datasets.vehicles.endpoint}, sensors ${config.datasets.sensors.endpoint}`,
    );
    return { config, secrets: new EnvSecrets(process.env) };
  }
  const settings = resolveSimulatorSettings(
    flags['state-dir'],
    { seed: flags.seed, vehicles: flags.vehicles, readingsPerVehicle: flags.readings },
    days[0] ?? yesterdayUtc(),
  );
  // DuckDB opens (and the SQL transpiler warms up) on this thread while the simulator's starts on its own.
  const engineOpening = openEngine(layout);
  // Awaited later; until then a failure to open must not count as an unhandled rejection.
  engineOpening.catch(() => undefined);
  let simulator: SimulatorThread;
  try {
    simulator = await startSimulatorThread({
      ...settings,
      clientId: SIMULATOR_CLIENT.id,
      clientSecret: SIMULATOR_CLIENT.secret,
      ...faultOptions(flags),
    });
  } catch (error) {
    await engineOpening.then(
      (engine) => engine.close(),
      () => undefined,
    );
    throw error;
  }
  const faults = describeFaults(flags);
  process.stderr.write(`etl run ${describeNights(days)}: state in ${relativeToCwd(layout.root)}\n`);
  progress(
    `simulated fleet API on ${simulator.url}: ${settings.vehicles} vehicles since ${settings.fleetStart}, ` +
      `${settings.readingsPerVehicle} readings per vehicle per day, seed ${settings.seed}` +
      (faults === undefined ? '' : `; faults: ${faults}`),
  );
  return {
    config: seedApiConfig(simulator.url, {
      clientId: SIMULATOR_CLIENT.id,
      clientSecretName: CLIENT_SECRET_NAME,
      rateBudget: budget,
    }),
    secrets: new EnvSecrets(process.env, { [CLIENT_SECRET_NAME]: SIMULATOR_CLIENT.secret }),
    simulator,
    engineOpening,
  };
}

async function runWithSource(
  flags: RunFlags,
  days: readonly string[],
  sqlSource: SqlSource,
  layout: ReturnType<typeof stateLayout>,
  { config, secrets, simulator, engineOpening }: ConnectedSource,
): Promise<number> {
  progress(
    `rate budget: ${config.rateBudget.maxConcurrentRequests} concurrent requests, ` +
      `${config.rateBudget.requestsPerSecond} per second; windows: calendar days in ${config.window.timeZone}`,
  );
  mkdirSync(path.dirname(layout.logs), { recursive: true });
  const source = new FleetApiSource({
    config,
    secrets,
    logger: jsonLogger('fleetSource', (line) => appendFileSync(layout.logs, `${line}\n`)),
  });
  /** A night that ended before the pipeline could say how: still one JSON line with `--json`, as every run has. */
  const failedNight = (day: string, reason: string) => {
    process.stderr.write(`etl: ${reason}\n`);
    if (!flags.json) return;
    const window = source.windowFor(scheduledTimeForDayIn(day, config.window.timeZone));
    process.stdout.write(
      `${JSON.stringify({ runId: runIdFor(window), status: 'failed', window, failures: [reason] })}\n`,
    );
  };
  let engine: DuckDbQueryEngine;
  try {
    engine = await (engineOpening ?? openEngine(layout));
  } catch (error) {
    failedNight(days[0] ?? '', `cannot open the warehouse ${layout.duckdb}: ${describeError(error)}`);
    return 1;
  }
  let failed = false;
  let current = days[0] ?? '';
  try {
    for (const [index, day] of days.entries()) {
      current = day;
      if (days.length > 1) process.stderr.write(`night ${index + 1}/${days.length}: ${day}\n`);
      const nightStarted = moment();
      const timeline = new StageTimeline(nightStarted);
      const summary = await runPipelineLocally({
        date: day,
        scheduledTime: scheduledTimeForDayIn(day, config.window.timeZone),
        stateDir: flags['state-dir'],
        source,
        engine,
        pageSize: flags['page-size'],
        sqlSource,
        onProgress: (line) => {
          timeline.note(line);
          progress(line);
        },
      });
      const ended = moment();
      const stages = {
        wall: timeline.durations(ended),
        cpu: timeline.cpuDurations(ended),
        startCpu: nightStarted.cpu,
      };
      const simulatorStats = await simulator?.stats();
      progress(describeSourceStats(source.stats()));
      if (simulatorStats) progress(describeSimulatorStats(simulatorStats));
      printSummary(summary, flags.json, source.stats(), simulatorStats, stages);
      if (summary.status !== 'succeeded') {
        failed = true;
        const left = days.slice(index + 1);
        if (left.length > 0) {
          process.stderr.write(
            `stopping: ${describeNights(left)} not run (run them again once this night succeeds)\n`,
          );
        }
        break;
      }
    }
  } catch (error) {
    failedNight(current, describeError(error));
    failed = true;
  } finally {
    await engine.close();
  }
  return failed ? 1 : 0;
}

/**
 * DuckDB and the SQL transpiler take about a second to load (the transpiler is WebAssembly): loaded when the engine
 * is opened rather than with the command, they load while the simulator's thread starts.
 */
async function openEngine(layout: StateLayout): Promise<DuckDbQueryEngine> {
  const { createDuckDbQueryEngine } = await import(
    '../services/adapters/local/duckdb/duckdb-query-engine.js'
  );
  return openWarehouse(
    layout.duckdb,
    () =>
      createDuckDbQueryEngine({
        databasePath: layout.duckdb,
        sandbox: sqlSandboxOf(layout),
        notice: (line) => process.stderr.write(`etl: ${line}\n`),
      }),
    (line) => process.stderr.write(`etl: warning: ${line}\n`),
  );
}

/** `--date D` (default yesterday) is one night; `--from A --to B` is every night from A to B, both included. */
function nightsToRun(flags: RunFlags): string[] {
  if (flags.from === undefined && flags.to === undefined) return [flags.date ?? yesterdayUtc()];
  if (flags.date !== undefined) throw new UsageError('give either --date or --from and --to, not both');
  if (flags.from === undefined || flags.to === undefined) {
    throw new UsageError('--from and --to go together: the first and the last night of the backfill');
  }
  if (flags.from > flags.to) throw new UsageError(`--from ${flags.from} is after --to ${flags.to}`);
  const days = daysBetween(flags.from, flags.to);
  if (days.length > MAX_NIGHTS) {
    throw new UsageError(
      `--from ${flags.from} --to ${flags.to} is ${days.length} nights; at most ${MAX_NIGHTS}`,
    );
  }
  return days;
}

function describeNights(days: readonly string[]): string {
  if (days.length === 1) return days[0] ?? '';
  return `${days[0]} to ${days.at(-1)} (${days.length} nights)`;
}

function describeSourceStats(stats: SourceStats): string {
  const failures = Object.entries(stats.transientFailures)
    .map(([kind, n]) => `${kind} ×${n}`)
    .join(', ');
  return (
    `fleet API client: ${stats.pageRequests} page request(s), ${stats.retries} retried` +
    (failures ? ` (${failures})` : '') +
    `, ${stats.tokenRequests} token request(s), at most ${stats.maxInFlight} in flight`
  );
}

function describeSimulatorStats(stats: SimulatorStats): string {
  const f = stats.faults;
  return (
    `simulator saw: ${stats.requests.vehicles + stats.requests.sensors} page request(s) ` +
    `(${f.throttled} throttled, ${f.rateLimited} rate-limited, ${f.serverErrors} failed, ${f.truncated} truncated), ` +
    `${stats.earlyRequests} before their Retry-After, at most ${stats.maxConcurrentRequests} at once, ` +
    `${stats.tokensIssued} token(s) issued (${stats.redundantTokenRequests} redundant request(s))`
  );
}

/** Above this share of a run's readings, dropped for an unknown vehicle, `etl run` warns. */
const UNKNOWN_VEHICLES_WARN_SHARE = 0.01;

function formatShare(share: number): string {
  return `${(share * 100).toFixed(share > 0 && share < 0.001 ? 3 : 1)}%`;
}

function printSummary(
  summary: RunSummary,
  json: boolean,
  sourceStats: SourceStats,
  simulatorStats: SimulatorStats | undefined,
  stages: { wall: StageDurations; cpu: StageDurations; startCpu: number },
): void {
  const out = (text: string) => process.stdout.write(`${text}\n`);
  // The report consumer runs after EtlDone: a night that failed before it (or whose report failed) has no page,
  // and pointing at one would send the reader to a file that is not there.
  const report = existsSync(summary.report) ? summary.report : null;
  const seconds = (summary.durationMs / 1000).toFixed(1);
  const outside = Object.entries(summary.outsideWindow).filter(([, rows]) => rows > 0);
  if (outside.length > 0) {
    const parts = outside.map(([dataset, rows]) => `${dataset} ${formatCount(rows)}`).join(', ');
    process.stderr.write(
      `  rows the API sent that were created outside the window, left out (they belong to other nights): ${parts}\n`,
    );
    for (const warning of dateFilterWarnings(summary)) process.stderr.write(`  WARNING: ${warning}\n`);
  }
  const unmapped = Object.entries(summary.unmappedFields);
  if (unmapped.length > 0) {
    // Once per run, however many pages had them: the API renamed a field the config maps, or added one.
    const parts = unmapped.map(([field, rows]) => `${field} (${formatCount(rows)} rows)`).join(', ');
    process.stderr.write(`  WARNING: the API sent fields no column reads (renamed or new?): ${parts}\n`);
  }
  const unknown = summary.unknownVehicles;
  if (unknown !== undefined) {
    const share = unknown.readings === 0 ? 0 : unknown.unknownVehicleReadings / unknown.readings;
    process.stderr.write(
      `  readings of vehicles not in vehicles_data, dropped by the join: ${formatCount(unknown.unknownVehicleReadings)} ` +
        `of ${formatCount(unknown.readings)} (${formatShare(share)}), ${formatCount(unknown.unknownVehicles)} vehicle(s)\n`,
    );
    if (share > UNKNOWN_VEHICLES_WARN_SHARE) {
      process.stderr.write(
        `  WARNING: more than ${formatShare(UNKNOWN_VEHICLES_WARN_SHARE)} of the readings belong to vehicles fetched on no ` +
          'night so far; on a first run against an existing fleet, fetch the vehicles as a full snapshot ' +
          '(datasets.vehicles.snapshot in the --source file, README)\n',
      );
    }
  }
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
        outsideWindow: summary.outsideWindow,
        unmappedFields: summary.unmappedFields,
        ...(summary.unknownVehicles === undefined ? {} : { unknownVehicles: summary.unknownVehicles }),
        lake: summary.lake,
        report,
        results: Object.fromEntries(Object.entries(summary.results).map(([name, r]) => [name, r.rows])),
        coverage: summary.coverage,
        failures: summary.failures,
        durationMs: Math.round(summary.durationMs),
        // Milestones of the run (stage-timeline.ts) and the process's peak resident set so far, simulator
        // thread included: what `npm run bench -- end-to-end` reports.
        stagesMs: stages.wall,
        // The same stages in CPU time (every thread), and the process's CPU before the night began (start-up).
        stagesCpuMs: stages.cpu,
        startCpuMs: Math.round(stages.startCpu),
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        source: sourceStats,
        ...(simulatorStats === undefined ? {} : { simulator: simulatorStats }),
      }),
    );
    return;
  }
  for (const [name, result] of Object.entries(summary.results)) {
    out(`\n${name}, ${describeCoverage(summary)}\n`);
    out(renderTable(result.columns, result.rows));
  }
  out('');
  out(`raw NDJSON:        ${relativeToCwd(summary.lake.raw)}`);
  out(`Parquet warehouse: ${relativeToCwd(summary.lake.warehouse)}`);
  out(
    report === null
      ? `report:            none (not written: the run ${summary.status === 'failed' ? 'failed before it' : 'did not write it'})`
      : `report:            ${relativeToCwd(report)}`,
  );
}

/**
 * What an answer covers: the queries read the whole warehouse, so after several nights the answer is theirs, not
 * the last night's alone.
 */
function describeCoverage({ runId, coverage }: RunSummary): string {
  const through = `the warehouse through run ${coverage.lastRun}`;
  const nights =
    coverage.nights === 1
      ? '1 night'
      : `${formatCount(coverage.nights)} nights since run ${coverage.firstRun}`;
  return coverage.lastRun === runId ? `${through} (${nights})` : `${through} (${nights}; this run: ${runId})`;
}

/**
 * The SQL files `etl run` runs: the bundled queries/ (default), a folder, or a GitHub folder; with the folder, when
 * it is one on this machine.
 */
function localSqlSource(spec: string): { sqlSource: SqlSource; sqlFolder: string | undefined } {
  try {
    const config = sqlSourceConfigFromSpec(spec, BUNDLED_QUERIES);
    // GITHUB_API_URL, as in the Lambda: a GitHub Enterprise Server's API (https://HOST/api/v3), or a test's server.
    const apiUrl = process.env.GITHUB_API_URL;
    const located =
      config.kind === 'github' && apiUrl !== undefined && apiUrl !== '' ? { ...config, apiUrl } : config;
    return {
      sqlSource: createSqlSource(located, { githubToken: async () => process.env.GITHUB_TOKEN }),
      sqlFolder: config.kind === 'folder' ? config.folder : undefined,
    };
  } catch (error) {
    throw new UsageError(`--sql-source: ${describeError(error)}`);
  }
}

/**
 * Why the nights must not run yet, when the warehouse holds nights missing from the summary the answer reads and
 * this command does not run them again (unsummarised-nights.ts); undefined when they may. A folder of SQL files
 * without the summary's file computes the answer some other way, and a GitHub folder is not read before the
 * night: neither is checked.
 */
async function nightsMissingFromSummary(
  flags: RunFlags,
  days: readonly string[],
  layout: StateLayout,
  config: SourceConfig,
): Promise<string | undefined> {
  const zone = config.window.timeZone;
  const running = new Set(
    days.map((day) => runIdFor(nightlyWindowIn(scheduledTimeForDayIn(day, zone), zone))),
  );
  const missing = (await runsMissingFromSummary(layout.warehouse)).filter((run) => !running.has(run));
  if (missing.length === 0) return undefined;
  const rerun = [
    ` --state-dir ${flags['state-dir']}`,
    ...(flags.source === undefined ? [] : [` --source ${flags.source}`]),
    ...(flags['sql-source'] === 'bundled' ? [] : [` --sql-source ${flags['sql-source']}`]),
  ].join('');
  return describeMissingNights(missing, zone, rerun);
}
