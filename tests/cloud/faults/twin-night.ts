import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { type DateWindow, DetailType } from '../../../events/index.js';
import type { SensorRow, VehicleRow } from '../../../services/shared/rows.js';
import { dayWindow, runIdFor } from '../../../services/shared/run-identity.js';
import {
  creationWindow,
  type RunningSimulator,
  type SimulatorOptions,
  startSimulator,
} from '../../../simulator/index.js';
import { CloudTwin } from '../../../twin/cloud-twin.js';
import type { PutEvent } from '../../../twin/front/event-log.js';
import { LambdaEnvironment } from '../../../twin/lambda/lambda-runner.js';
import { type PolledBatch, QueueMapping } from '../../../twin/lambda/queue-mapping.js';
import {
  functionOfConstruct,
  type TwinFunction,
  type TwinQueue,
} from '../../../twin/template/stack-model.js';
import { TWIN_REGION } from '../../../twin/twin-account.js';
import {
  type Answer,
  checkLakeAndTables,
  filesHolding,
  filesUnder,
  sameAnswer,
} from '../../faults/invariants.js';
import type { ScenarioResult, SuiteRecorder } from '../../faults/scenario.js';
import { expectedAnswer } from '../../helpers/expected-answer.js';

/** The night every scenario runs, fired as the schedule fires it: 01:00 UTC the next morning. */
const NIGHT = '2026-11-24';
export const FIRED = new Date('2026-11-25T01:00:00.000Z');
/** Small pages, so a night has a handful of them and a batch of the tasks queue holds several. */
export const PAGE_SIZE = 40;
/** A small fleet (12 vehicles, 20 readings a day): 1 page of vehicles, 6 of sensors. */
const FLEET = { seed: 7, vehicles: 12, readingsPerVehicle: 20, fleetStart: NIGHT } as const;
/** Distinctive, so that the secrets scan cannot miss it. */
const CLIENT_SECRET = 'Tw1n-faults-9c4e7a1b2d';
const ANSWER = 'avg_seconds_between_measurements';

type Fleet = Pick<SimulatorOptions, 'seed' | 'vehicles' | 'readingsPerVehicle' | 'fleetStart'>;

export interface TwinNightOptions {
  assemblyDir: string;
  /** Simulator faults (`failPages`, `latencyMs`...) of the API the functions call. */
  faults?: Partial<SimulatorOptions>;
  fleet?: Fleet;
  /** Downloader execution environments polling the tasks queue (Lambda scaling out): 1 unless said. */
  downloaders?: number;
}

const ResultSchema = z.object({ rows: z.array(z.record(z.string(), z.unknown())) });
const EtlDoneSchema = z.object({ runId: z.string(), results: z.record(z.string(), z.string()) });

/**
 * One twin of the stack with every function attached, the simulated fleet API, and the steps of a night: the
 * schedule fired, the tasks queue polled by the downloaders, the bus delivered to everyone. A scenario steps it,
 * injects its fault between steps, and checks the outcome with `check`.
 */
export class TwinNight {
  readonly twin: CloudTwin;
  /** Every simulator the functions were pointed at (a healed API is another one): their tokens are scanned for. */
  readonly simulators: RunningSimulator[];
  readonly fleet: Fleet;
  readonly environments: LambdaEnvironment[] = [];
  pollers: QueueMapping[] = [];
  readonly tasksQueue: TwinQueue;
  readonly deadLetterQueue: TwinQueue;
  readonly #scratch: string[] = [];

  private constructor(twin: CloudTwin, simulator: RunningSimulator, fleet: Fleet) {
    this.twin = twin;
    this.simulators = [simulator];
    this.fleet = fleet;
    const downloader = this.fn('Downloader');
    const mapping = twin.model.queueMappings.find((m) => m.functionLogicalId === downloader.logicalId);
    const tasks = [...twin.model.queues.values()].find((q) => q.arn === mapping?.queueArn);
    const dlq = [...twin.model.queues.values()].find((q) => q.arn === tasks?.redrive?.deadLetterTargetArn);
    if (tasks === undefined || dlq === undefined) throw new Error('no tasks queue with a dead-letter queue');
    this.tasksQueue = tasks;
    this.deadLetterQueue = dlq;
  }

  static async start(options: TwinNightOptions): Promise<TwinNight> {
    const twin = await CloudTwin.start({ assemblyDir: options.assemblyDir });
    const fleet = options.fleet ?? FLEET;
    const simulator = await startSimulator({
      ...fleet,
      clientId: functionOfConstruct(twin.model, 'Services/Planner').environment.FLEET_API_CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      ...options.faults,
    });
    const [secret] = twin.model.secrets.values();
    if (secret === undefined) throw new Error('no secret in the template');
    twin.secrets.put(secret.arn, CLIENT_SECRET);
    const night = new TwinNight(twin, simulator, fleet);
    for (const name of ['Planner', 'CompletionTracker', 'QueryRunner', 'Report'] as const) {
      const fn = night.fn(name);
      twin.bus.attach(fn, night.environment(fn));
    }
    for (let i = 0; i < (options.downloaders ?? 1); i += 1) night.addDownloader();
    return night;
  }

  fn(construct: 'Planner' | 'Downloader' | 'CompletionTracker' | 'QueryRunner' | 'Report'): TwinFunction {
    return functionOfConstruct(this.twin.model, `Services/${construct}`);
  }

  get simulator(): RunningSimulator {
    const current = this.simulators.at(-1);
    if (current === undefined) throw new Error('no simulator');
    return current;
  }

  /** An execution environment of the function, its calls to the fleet API answered by the current simulator. */
  environment(fn: TwinFunction): LambdaEnvironment {
    const api = [fn.environment.FLEET_API_BASE_URL, fn.environment.FLEET_API_TOKEN_URL].flatMap((url) =>
      url === undefined ? [] : [new URL(url).origin],
    );
    const environment = new LambdaEnvironment({
      fn,
      environment: this.twin.environmentOf(fn),
      internet: Object.fromEntries(api.map((origin) => [origin, this.simulator.url])),
      clock: this.twin.clock,
    });
    this.environments.push(environment);
    return environment;
  }

  /** One more downloader environment polling the tasks queue through the template's mapping. */
  addDownloader(): QueueMapping {
    const downloader = this.fn('Downloader');
    const mapping = this.twin.model.queueMappings.find((m) => m.functionLogicalId === downloader.logicalId);
    if (mapping === undefined) throw new Error('no mapping feeds the downloader');
    const poller = new QueueMapping({
      mapping,
      queue: this.tasksQueue,
      environment: this.environment(downloader),
      endpoint: this.twin.endpoint,
      credentials: this.twin.credentialsOf(downloader),
    });
    this.pollers.push(poller);
    return poller;
  }

  /**
   * The API healed (or otherwise changed): a simulator of the same fleet with other faults, which the downloader
   * environments started from now on call. The old ones are stopped, as Lambda retires environments.
   */
  async healApi(faults: Partial<SimulatorOptions> = {}): Promise<void> {
    this.simulators.push(
      await startSimulator({
        ...this.fleet,
        clientId: this.fn('Planner').environment.FLEET_API_CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        ...faults,
      }),
    );
    for (const poller of this.pollers) poller.close();
    const count = this.pollers.length;
    this.pollers = [];
    for (let i = 0; i < count; i += 1) this.addDownloader();
  }

  /** The nightly schedule fires (for `time`): EventBridge invokes the planner once per dataset. */
  async fireSchedule(time: Date = FIRED): Promise<void> {
    const planner = this.fn('Planner');
    const schedule = this.twin.model.scheduledRules.find((r) => r.targets.some((t) => t.arn === planner.arn));
    if (schedule === undefined) throw new Error('no schedule targets the planner');
    this.twin.bus.fireSchedule(schedule.arn, time);
    await this.twin.bus.deliverPending({ to: [planner.logicalId] });
  }

  /** The mapping's pollers, in turn, until the queue has nothing visible for any of them. */
  async drainQueue(): Promise<PolledBatch[]> {
    const batches: PolledBatch[] = [];
    for (;;) {
      let polled = 0;
      for (const poller of this.pollers) {
        const batch = await poller.pollOnce();
        if (batch !== undefined) {
          batches.push(batch);
          polled += 1;
        }
      }
      if (polled === 0) return batches;
    }
  }

  /**
   * Runs the night on from wherever it is until nothing is left to do: the queue drained, the bus delivered to
   * every function, again until neither has anything. `afterRound` runs after each bus delivery (a scenario's
   * redeliveries, say).
   */
  async settle(afterRound?: () => Promise<void>): Promise<void> {
    for (let round = 0; round < 100; round += 1) {
      const batches = await this.drainQueue();
      const outcomes = await this.twin.bus.deliverPending();
      await afterRound?.();
      if (batches.length === 0 && outcomes.length === 0 && this.twin.bus.pendingCount === 0) return;
    }
    throw new Error('the night did not settle in 100 rounds');
  }

  /** Events put on the bus of a detail-type, in order. */
  published(detailType: string): PutEvent[] {
    return this.twin.events.events.filter((e) => e.detailType === detailType);
  }

  /** A new scratch folder, removed by `stop` unless the scenario failed. */
  scratch(name: string): string {
    const folder = mkdtempSync(path.join(tmpdir(), `fleet-etl-twin-${name}-`));
    this.#scratch.push(folder);
    return folder;
  }

  /** Copies a bucket (or a prefix of it) of the twin's S3 into a folder, read as the account's operator. */
  async copyBucket(bucket: string, into: string, prefix = ''): Promise<number> {
    const s3 = new S3Client({
      region: TWIN_REGION,
      endpoint: this.twin.endpoint,
      forcePathStyle: true,
      credentials: this.twin.operatorCredentials(),
    });
    let copied = 0;
    try {
      let token: string | undefined;
      do {
        const listed = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const object of listed.Contents ?? []) {
          if (object.Key === undefined) continue;
          const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
          const file = path.join(into, object.Key);
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, (await got.Body?.transformToByteArray()) ?? new Uint8Array());
          copied += 1;
        }
        token = listed.IsTruncated === true ? listed.NextContinuationToken : undefined;
      } while (token !== undefined);
    } finally {
      s3.destroy();
    }
    return copied;
  }

  /** The buckets of the stack, by the variables the functions locate them with. */
  buckets(): { raw: string; warehouse: string; results: string } {
    const env = this.fn('QueryRunner').environment;
    const { RAW_BUCKET: raw, WAREHOUSE_BUCKET: warehouse, RESULTS_BUCKET: results } = env;
    if (raw === undefined || warehouse === undefined || results === undefined)
      throw new Error('the query runner has no bucket variables');
    return { raw, warehouse, results };
  }

  /** The twin's buckets copied into a scratch folder: `raw/`, `warehouse/`, `results/`. */
  async snapshot(name: string): Promise<{ root: string; raw: string; warehouse: string; results: string }> {
    const root = this.scratch(name);
    const buckets = this.buckets();
    const folders = {
      raw: path.join(root, 'raw'),
      warehouse: path.join(root, 'warehouse'),
      results: path.join(root, 'results'),
    };
    for (const [which, folder] of Object.entries(folders) as [keyof typeof folders, string][]) {
      mkdirSync(folder, { recursive: true });
      await this.copyBucket(buckets[which], folder);
    }
    return { root, ...folders };
  }

  /** The rows the API holds for a window (the night by default), straight from its generator. */
  world(window: DateWindow = dayWindow(NIGHT)): { vehicles: VehicleRow[]; sensors: SensorRow[] } {
    const range = creationWindow(window.from, window.to);
    return {
      vehicles: [...this.simulator.world.rows('vehicles', range)],
      sensors: [...this.simulator.world.rows('sensors', range)],
    };
  }

  async stop(keepScratch = false): Promise<void> {
    for (const poller of this.pollers) poller.close();
    for (const environment of this.environments) await environment.stop();
    for (const simulator of this.simulators) await simulator.close();
    await this.twin.stop();
    if (!keepScratch) for (const folder of this.#scratch) rmSync(folder, { recursive: true, force: true });
  }
}

/** What a scenario expects of its night on the twin. */
export interface TwinExpectation {
  /** `answer`: the run ends with EtlDone and the answer of the rows served; `failure`: EtlFailed matching it. */
  outcome: { kind: 'answer' } | { kind: 'failure'; failure: RegExp };
  /** The run's window: the night unless a backfill. */
  window?: DateWindow;
  /** Tasks left in the dead-letter queue (default 0). */
  deadLetters?: number;
  /** DownloadsDrained events the run may publish: one per attempt (default 1). */
  attempts?: number;
  /** Rows per page the run's tasks asked for (PAGE_SIZE unless said). */
  pageSize?: number;
  /** EtlFailed events an earlier part of the scenario published on purpose (a page that gave up, then redriven). */
  earlierFailure?: RegExp;
}

export interface TwinCheck {
  violations: string[];
  checked: string[];
  duplicates: number;
  lost: number;
  pagesChecked: number;
}

/** The answer of an EtlDone, read from the result object it names in the results bucket. */
export async function answerOfEtlDone(night: TwinNight, done: PutEvent): Promise<Answer> {
  const detail = EtlDoneSchema.parse(done.detail);
  const key = detail.results[ANSWER];
  if (key === undefined) return [];
  const folder = night.scratch('answer');
  await night.copyBucket(night.buckets().results, folder, key);
  const result = ResultSchema.parse(JSON.parse(readFileSync(path.join(folder, key), 'utf8')));
  return result.rows.map((row) => ({
    vehicle_type: String(row.vehicle_type),
    avg_seconds_between_measurements: Number(row.avg_seconds_between_measurements),
    vehicles: Number(row.vehicles),
  }));
}

/**
 * The invariants of tests/faults/invariants.ts, held against the twin: its S3 copied into folders for the lake
 * and the tables (checkLakeAndTables, shared with the local suite); the answer against the independent
 * computation over the rows the API served; the bus's own record for the events (DownloadsDrained once per
 * attempt, EtlDone once, or EtlFailed naming the cause); SQS's for the queues; and no secret or token anywhere:
 * the buckets, the functions' logs, the events.
 */
export async function checkTwinNight(night: TwinNight, expectation: TwinExpectation): Promise<TwinCheck> {
  const window = expectation.window ?? dayWindow(NIGHT);
  const runId = runIdFor(window);
  const world = night.world(window);
  const pageSize = expectation.pageSize ?? PAGE_SIZE;
  const planned = {
    vehicles: Math.ceil(world.vehicles.length / pageSize),
    sensors: Math.ceil(world.sensors.length / pageSize),
  };
  const ofRun = (detailType: string) =>
    night.published(detailType).filter((e) => (e.detail as { runId?: unknown }).runId === runId);
  const done = ofRun(DetailType.EtlDone);
  const failed = ofRun(DetailType.EtlFailed);
  const succeeded = expectation.outcome.kind === 'answer' ? done.length > 0 : failed.length === 0;
  const lake = await night.snapshot('check');
  const report = await checkLakeAndTables({
    raw: lake.raw,
    warehouse: lake.warehouse,
    others: [lake.results],
    runId,
    planned,
    world,
    succeeded,
  });
  const violations = [...report.violations];
  const checked = [...report.checked];
  let { duplicates } = report;

  const drained = ofRun(DetailType.DownloadsDrained);
  const attempts = expectation.attempts ?? 1;
  if (expectation.outcome.kind === 'answer' && drained.length !== attempts) {
    duplicates += Math.max(0, drained.length - attempts);
    violations.push(`DownloadsDrained published ${drained.length} times for ${attempts} attempt(s)`);
  }
  if (expectation.outcome.kind === 'answer') {
    if (done.length !== 1) violations.push(`EtlDone published ${done.length} times`);
    const unexpected = failed.filter((e) => !expectation.earlierFailure?.test(JSON.stringify(e.detail)));
    if (unexpected.length > 0)
      violations.push(`EtlFailed: ${unexpected.map((e) => JSON.stringify(e.detail)).join(' | ')}`);
    // Counted once: the ledger's totals, which DownloadsDrained carries, are the plan's pages and the rows served.
    const totals = z
      .object({ datasets: z.record(z.string(), z.object({ pages: z.number(), rows: z.number() })) })
      .safeParse(drained[0]?.detail);
    const servedRows = { vehicles: world.vehicles.length, sensors: world.sensors.length };
    if (
      totals.success &&
      (['vehicles', 'sensors'] as const).every(
        (d) =>
          totals.data.datasets[d]?.pages === planned[d] && totals.data.datasets[d]?.rows === servedRows[d],
      )
    )
      checked.push('ledger counted each page once');
    else violations.push(`DownloadsDrained counts ${JSON.stringify(drained[0]?.detail)}, not the plan's`);
    const expected = expectedAnswer(world.vehicles, world.sensors);
    const answers = await Promise.all(done.map((e) => answerOfEtlDone(night, e)));
    if (answers.length > 0 && answers.every((a) => sameAnswer(a, expected)) && expected.length > 0)
      checked.push(`answer = the rows served (${expected.length} types)`);
    else if (answers.length > 0) violations.push('answer differs from the rows served');
  } else {
    const { failure } = expectation.outcome;
    if (done.length > 0) violations.push('EtlDone published where the run had to fail');
    if (drained.length > 0) violations.push('DownloadsDrained published where the run had to fail');
    if (failed.some((e) => failure.test(JSON.stringify(e.detail)))) checked.push('EtlFailed names the cause');
    else
      violations.push(
        `no EtlFailed names the cause: ${failed.map((e) => JSON.stringify(e.detail)).join(' | ')}`,
      );
  }
  if (night.twin.refusals.length > 0)
    violations.push(`requests refused: ${night.twin.refusals.map((r) => JSON.stringify(r)).join(' | ')}`);

  const tasks = await night.twin.queues.depth(night.tasksQueue.arn);
  if (tasks.visible + tasks.inFlight + tasks.delayed > 0)
    violations.push(`tasks left: ${JSON.stringify(tasks)}`);
  const letters = await night.twin.queues.depth(night.deadLetterQueue.arn);
  const deadLetters = letters.visible + letters.inFlight + letters.delayed;
  if (deadLetters !== (expectation.deadLetters ?? 0))
    violations.push(`${deadLetters} task dead letters, expected ${expectation.deadLetters ?? 0}`);
  else checked.push(`${deadLetters} dead letter(s)`);

  const secrets = [CLIENT_SECRET, ...night.simulators.flatMap((s) => s.issuedTokens())];
  const leaks = filesHolding(lake.root, secrets);
  const logs = night.environments.map((e) => e.logs.join(''));
  if (logs.some((text) => secrets.some((secret) => text.includes(secret)))) leaks.push('the functions’ logs');
  const events = JSON.stringify(night.twin.events.events);
  if (secrets.some((secret) => events.includes(secret))) leaks.push('the events');
  if (leaks.length > 0) violations.push(`a secret or token appears in ${leaks.join(', ')}`);
  else checked.push(`no secret in ${filesUnder(lake.root).length} objects or the logs`);

  return { violations, checked, duplicates, lost: report.lost, pagesChecked: report.pagesChecked };
}

/** Polls `condition` every 10 ms until it holds (at most `timeoutMs`). */
export async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the condition did not come true in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One scenario on the twin: its own night, its fault, its checks; one line, as the local fault suite prints. */
export interface TwinScenario {
  name: string;
  injected: string;
  run(): Promise<{ night: TwinNight; faults: number; check: TwinCheck; extra?: string[] }>;
}

export async function runTwinScenario(
  recorder: SuiteRecorder,
  scenario: TwinScenario,
): Promise<ScenarioResult> {
  const started = performance.now();
  const { night, faults, check, extra = [] } = await scenario.run();
  const violations = [...check.violations, ...extra];
  if (faults === 0) violations.push('no fault was injected');
  await night.stop(violations.length > 0);
  return recorder.record({
    name: scenario.name,
    injected: scenario.injected,
    checked: check.checked.join(', '),
    outcome: violations.length === 0 ? 'pass' : 'fail',
    faults,
    pagesChecked: check.pagesChecked,
    duplicates: check.duplicates,
    lost: check.lost,
    violations,
    seconds: (performance.now() - started) / 1000,
  });
}

/** The group's summary line (to stderr, as the local suite's), without touching the local suite's JSON files. */
export function summariseTwinGroup(group: string, recorder: SuiteRecorder): void {
  const { results } = recorder;
  const sum = (f: (r: ScenarioResult) => number) => results.reduce((s, r) => s + f(r), 0);
  process.stderr.write(
    `[fault] summary ${group}: ${results.filter((r) => r.outcome === 'pass').length}/${results.length} scenarios passed, ` +
      `${sum((r) => r.faults)} faults injected, ${sum((r) => r.pagesChecked)} pages checked, ` +
      `${sum((r) => r.duplicates)} duplicates found, ${sum((r) => r.lost)} rows lost, ${sum((r) => r.seconds).toFixed(1)} s\n`,
  );
}
