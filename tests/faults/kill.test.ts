import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import type { RunSummary } from '../../local/run-pipeline.js';
import { dayWindow } from '../../services/shared/run-identity.js';
import { creationWindow, type RunningSimulator, startSimulator } from '../../simulator/index.js';
import { CLIENT_ID, CLIENT_SECRET, DAY, type FaultRun, FLEET, freshStateDir, PAGE_SIZE } from './harness.js';
import { type Answer, independentAnswer } from './invariants.js';
import { SuiteRecorder } from './scenario.js';

const ETL = path.resolve('bin/etl.js');
const SECRET_VARIABLE = 'FLEET_ETL_SECRET_FAULTS_CLIENT_SECRET';

const OutputSchema = z.object({
  runId: z.string(),
  status: z.enum(['succeeded', 'failed']),
  window: z.object({ from: z.string(), to: z.string(), timeZone: z.string() }),
  datasets: z.record(z.string(), z.object({ pages: z.number(), rows: z.number() })),
  outsideWindow: z.record(z.string(), z.number()),
  unmappedFields: z.record(z.string(), z.number()),
  lake: z.object({ raw: z.string(), warehouse: z.string() }),
  // null when the run wrote no report page (a failed night).
  report: z.string().nullable(),
  results: z.record(z.string(), z.array(z.record(z.string(), z.any()))),
  coverage: z.object({ nights: z.number(), firstRun: z.string(), lastRun: z.string() }),
  failures: z.array(z.string()),
  durationMs: z.number(),
});

interface ChildOutcome {
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `etl run` as a process against the test's simulator; SIGKILLed `killDelayMs` after its progress first matches
 * `killOn` (it may have ended by then).
 */
function etlRun(
  stateDir: string,
  configFile: string,
  killOn?: RegExp,
  killDelayMs = 0,
  pageSize = PAGE_SIZE,
): Promise<ChildOutcome> {
  const args = ['run', '--date', DAY, '--state-dir', stateDir, '--source', configFile];
  const child = spawn(process.execPath, [ETL, ...args, '--page-size', String(pageSize), '--json'], {
    env: { ...process.env, [SECRET_VARIABLE]: CLIENT_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  let killing = false;
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (killing || !killOn?.test(stderr)) return;
    killing = true;
    if (killDelayMs === 0) child.kill('SIGKILL');
    else setTimeout(() => child.kill('SIGKILL'), killDelayMs);
  });
  return new Promise((resolve) => child.on('close', (_code, signal) => resolve({ signal, stdout, stderr })));
}

/** The second, uninterrupted run as the invariant checker reads runs. */
function asFaultRun(outcome: ChildOutcome, stateDir: string, simulator: RunningSimulator): FaultRun {
  const output = OutputSchema.parse(JSON.parse(outcome.stdout.trim().split('\n').at(-1) ?? ''));
  const results: RunSummary['results'] = {};
  for (const [name, rows] of Object.entries(output.results)) {
    results[name] = { columns: Object.keys(rows[0] ?? {}), rows };
  }
  const w = dayWindow(DAY);
  return {
    // RunSummary.report is where the page belongs; the invariant checks do not read it.
    summary: { ...output, results, report: output.report ?? '' },
    stateDir,
    simulator: simulator.stats(),
    source: {
      pageRequests: 0,
      retries: 0,
      tokenRequests: 0,
      transientFailures: {},
      maxInFlight: 0,
      budgetWaits: 0,
      budgetWaitMs: 0,
    },
    tokens: simulator.issuedTokens(),
    world: {
      vehicles: [...simulator.world.rows('vehicles', creationWindow(w.from, w.to))],
      sensors: [...simulator.world.rows('sensors', creationWindow(w.from, w.to))],
    },
    window: output.window,
  };
}

describe('fault injection: the process killed', () => {
  const recorder = new SuiteRecorder();
  let simulator: RunningSimulator;

  beforeAll(async () => {
    // Slow pages, so that a kill lands while downloads are in flight.
    simulator = await startSimulator({
      ...FLEET,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      latencyMs: 80,
    });
  });

  afterAll(async () => {
    await simulator.close();
    recorder.summarise('kill');
  });

  async function killedThenResumed(
    name: string,
    injected: string,
    killOn: RegExp,
    baseline: () => Answer,
    attempts = 1,
    killDelaysMs: readonly number[] = [0],
    resumePageSize = PAGE_SIZE,
  ) {
    const stateDir = freshStateDir('kill');
    const configFile = path.join(stateDir, 'source.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        baseUrl: simulator.url,
        auth: { tokenUrl: '/oauth/token', clientId: CLIENT_ID, clientSecretName: 'faults/client-secret' },
        rateBudget: { maxConcurrentRequests: 2, requestsPerSecond: 1_000 },
        datasets: { vehicles: { endpoint: '/v1/vehicles' }, sensors: { endpoint: '/v1/sensors' } },
      }),
    );
    const killedRuns: ChildOutcome[] = [];
    let resumed: ChildOutcome = { signal: null, stdout: '', stderr: '' };
    /** Parquet files that are not whole (a kill must never leave one): checked after every killed run. */
    const brokenParquet = new Set<string>();
    const result = await recorder.runScenario(
      {
        name,
        injected,
        expect: { kind: 'answer', attempts },
        run: async () => {
          for (const delay of killDelaysMs) {
            killedRuns.push(await etlRun(stateDir, configFile, killOn, delay));
            for (const file of unwholeParquetFiles(stateDir)) brokenParquet.add(file);
          }
          resumed = await etlRun(stateDir, configFile, undefined, 0, resumePageSize);
          return asFaultRun(resumed, stateDir, simulator);
        },
        faults: () => killedRuns.filter((run) => run.signal === 'SIGKILL').length,
        extraChecks: () => {
          const problems: string[] = [];
          // The last run resumes the killed night. A kill sent some time after its trigger (the Parquet scenario)
          // may land once the night has finished (EtlDone recorded, the process not yet exited): the last run then
          // runs it again from the start. Either way it says which; the invariants check the outcome.
          const lastKilled = killedRuns.at(-1)?.signal === 'SIGKILL';
          const mayHaveFinished = killDelaysMs.some((delay) => delay > 0);
          const picksUp = mayHaveFinished
            ? /resuming run|finished before: running it again from the start/
            : /resuming run/;
          if (lastKilled && !picksUp.test(resumed.stderr)) problems.push('the last run did not resume');
          const keptPlan = /keeping the plan this night made, pages of 100 rows/;
          if (resumePageSize !== PAGE_SIZE && !keptPlan.test(resumed.stderr)) {
            problems.push('the resumed run did not say it keeps the recorded page size');
          }
          if (brokenParquet.size > 0)
            problems.push(`Parquet files left not whole: ${[...brokenParquet].join(', ')}`);
          const leftovers = temporaryFiles(stateDir);
          if (leftovers.length > 0)
            problems.push(`temporary files left after the last run: ${leftovers.join(', ')}`);
          const outputs = killedRuns.flatMap((run) => [run.stderr, run.stdout]);
          for (const text of [...outputs, resumed.stderr, resumed.stdout]) {
            for (const secret of [CLIENT_SECRET, ...simulator.issuedTokens()]) {
              if (text.includes(secret)) problems.push('a secret or token appears in the output');
            }
          }
          return problems;
        },
      },
      baseline(),
    );
    expect(result.violations).toEqual([]);
  }

  it('killed mid-download, then run again', async () => {
    await killedThenResumed(
      'process killed mid-download',
      'SIGKILL once 3 sensor pages are stored',
      /(stored sensors page[\s\S]*){3}/,
      () => independentAnswerOfSimulator(simulator),
    );
  }, 120_000);

  it('killed mid-download, then resumed with another --page-size: the night keeps the plan it made', async () => {
    await killedThenResumed(
      'process killed mid-download, resumed with another page size',
      `SIGKILL once 3 sensor pages of ${PAGE_SIZE} rows are stored; resumed with --page-size ${PAGE_SIZE / 2}`,
      /(stored sensors page[\s\S]*){3}/,
      () => independentAnswerOfSimulator(simulator),
      1,
      [0],
      PAGE_SIZE / 2,
    );
  }, 120_000);

  it('killed mid-query, then run again', async () => {
    await killedThenResumed(
      'process killed mid-query',
      'SIGKILL once 20_vehicles_data.sql ran (30_sensor_data.sql is running)',
      /ran 20_vehicles_data\.sql/,
      () => independentAnswerOfSimulator(simulator),
      // Resuming a run whose queries never finished announces DownloadsDrained again (decision 5).
      2,
    );
  }, 120_000);

  it('killed at 20 moments while the SQL files write Parquet, then run again', async () => {
    await killedThenResumed(
      'process killed while Parquet is written',
      'SIGKILL 0-95 ms after the first SQL file ran, 20 times (the next files write the Parquet tables)',
      /ran 10_raw_tables\.sql/,
      () => independentAnswerOfSimulator(simulator),
      // Each resumed query stage announces DownloadsDrained again (decision 5): at most once per run started.
      21,
      Array.from({ length: 20 }, (_, i) => i * 5),
    );
  }, 300_000);
});

/**
 * Every `.parquet` file a table can read that is not a whole Parquet file: one ends with the 4-byte magic `PAR1`
 * after its footer, so an empty or cut file fails this (DuckDB: "too small to be a Parquet file"). A write's
 * staging folder (`.staging/`, beside the tables, read by none) may hold a killed write's cut files.
 */
function unwholeParquetFiles(stateDir: string): string[] {
  const files = readdirSync(stateDir, { recursive: true, withFileTypes: true }).filter(
    (entry) =>
      entry.isFile() &&
      entry.name.endsWith('.parquet') &&
      !entry.parentPath.split(path.sep).includes('.staging'),
  );
  return files
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => {
      const bytes = readFileSync(file);
      return bytes.length < 12 || bytes.subarray(-4).toString('latin1') !== 'PAR1';
    });
}

/** Temporary files of unfinished page and object writes (`.<name>.<uuid>.tmp`) anywhere in the state folder. */
function temporaryFiles(stateDir: string): string[] {
  return readdirSync(stateDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.tmp'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** The fault-free answer for the simulator's night, computed in TypeScript (the in-process suites check both agree). */
function independentAnswerOfSimulator(simulator: RunningSimulator): Answer {
  const w = dayWindow(DAY);
  return independentAnswer({
    world: {
      vehicles: [...simulator.world.rows('vehicles', creationWindow(w.from, w.to))],
      sensors: [...simulator.world.rows('sensors', creationWindow(w.from, w.to))],
    },
  } as FaultRun);
}
