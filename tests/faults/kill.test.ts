import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import type { RunSummary } from '../../infra/local/run-pipeline.js';
import { creationWindow, type RunningSimulator, startSimulator } from '../../infra/local/simulator/index.js';
import { dayWindow } from '../../services/shared/run-identity.js';
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
  report: z.string(),
  results: z.record(z.string(), z.array(z.record(z.string(), z.any()))),
  failures: z.array(z.string()),
  durationMs: z.number(),
});

interface ChildOutcome {
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `etl run` as a process against the test's simulator; SIGKILLed when its progress first matches `killOn`. */
function etlRun(stateDir: string, configFile: string, killOn?: RegExp): Promise<ChildOutcome> {
  const args = ['run', '--date', DAY, '--state-dir', stateDir, '--source', configFile];
  const child = spawn(process.execPath, [ETL, ...args, '--page-size', String(PAGE_SIZE), '--json'], {
    env: { ...process.env, [SECRET_VARIABLE]: CLIENT_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (killOn?.test(stderr)) child.kill('SIGKILL');
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
    summary: { ...output, results },
    stateDir,
    simulator: simulator.stats(),
    source: { pageRequests: 0, retries: 0, tokenRequests: 0, transientFailures: {}, maxInFlight: 0 },
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
    let killed: ChildOutcome = { signal: null, stdout: '', stderr: '' };
    let resumed: ChildOutcome = { signal: null, stdout: '', stderr: '' };
    const result = await recorder.runScenario(
      {
        name,
        injected,
        expect: { kind: 'answer', attempts },
        run: async () => {
          killed = await etlRun(stateDir, configFile, killOn);
          resumed = await etlRun(stateDir, configFile);
          return asFaultRun(resumed, stateDir, simulator);
        },
        faults: () => (killed.signal === 'SIGKILL' ? 1 : 0),
        extraChecks: () => {
          const problems: string[] = [];
          if (!/resuming run/.test(resumed.stderr)) problems.push('the second run did not resume');
          for (const text of [killed.stderr, killed.stdout, resumed.stderr, resumed.stdout]) {
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

  it('killed mid-query, then run again', async () => {
    await killedThenResumed(
      'process killed mid-query',
      'SIGKILL once the second SQL file ran (the third is running)',
      /ran 20_vehicles_data\.sql/,
      () => independentAnswerOfSimulator(simulator),
      // Resuming a run whose queries never finished announces DownloadsDrained again (decision 5).
      2,
    );
  }, 120_000);
});

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
