import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { DEFAULT_FLEET, type RunningSimulator, startSimulator } from '../../simulator/index.js';
import { CloudTwin } from '../cloud-twin.js';
import type { DeliveryOutcome } from '../events/event-router.js';
import type { IamAuthorizerOptions } from '../iam/iam-authorizer.js';
import { LambdaEnvironment } from '../lambda/lambda-runner.js';
import { type PolledBatch, QueueMapping } from '../lambda/queue-mapping.js';
import {
  functionOfConstruct,
  type TwinFunction,
  type TwinQueueMapping,
  type TwinScheduledRule,
} from '../template/stack-model.js';
import { fireTimeOf } from './fire-time.js';

/** The simulated fleet the API origins of the template are answered by. */
export interface NightFleet {
  seed: number;
  vehicles: number;
  readingsPerVehicle: number;
  /** The day the fleet's vehicles start being created (YYYY-MM-DD). */
  fleetStart: string;
}

/**
 * The fleet `etl run` simulates by default (simulator/fleet-world.ts's DEFAULT_FLEET), starting on the
 * night run, as a first `etl run` into an empty folder does.
 */
export const defaultFleetFor = (night: string): NightFleet => ({
  ...DEFAULT_FLEET,
  fleetStart: night,
});

export interface TwinNightOptions extends IamAuthorizerOptions {
  /** The cloud assembly `cdk synth` wrote. */
  assemblyDir: string;
  stackName?: string;
  fleet: NightFleet;
  /**
   * How many execution environments a function gets (one by default): several run its deliveries at once, as
   * Lambda scales out for the bus.
   */
  environmentsOf?: (fn: TwinFunction) => number;
}

/** The schedule fired for a night: which rule, when, how many targets. */
export interface Firing {
  rule: TwinScheduledRule;
  night: string;
  time: Date;
  /** False when the rule's expression is a `rate(...)`: fired at 01:00 UTC then. */
  fromCron: boolean;
  targets: number;
}

/** One round of stepping: every pending delivery of the bus, then every mapped queue polled until empty. */
export interface Round {
  index: number;
  deliveries: DeliveryOutcome[];
  batches: { mapping: TwinQueueMapping; batch: PolledBatch }[];
}

export class NightDidNotSettleError extends Error {
  override readonly name = 'NightDidNotSettleError';
}

interface MappedQueue {
  mapping: TwinQueueMapping;
  fn: TwinFunction;
  poller: QueueMapping;
}

/** Origins a function calls for the fleet API, by the variables the template gives it. */
const API_VARIABLES = ['FLEET_API_BASE_URL', 'FLEET_API_TOKEN_URL'] as const;

/** What the driver reads of a `source` configuration (FLEET_SOURCE_CONFIG): where it sends requests, and as whom. */
const SourceOriginsSchema = z.looseObject({
  baseUrl: z.string().optional(),
  auth: z.looseObject({ tokenUrl: z.string().optional(), clientId: z.string().optional() }).optional(),
  datasets: z.record(z.string(), z.looseObject({ endpoint: z.string().optional() })).optional(),
});

function sourceOf(fn: TwinFunction): z.infer<typeof SourceOriginsSchema> | undefined {
  const text = fn.environment.FLEET_SOURCE_CONFIG;
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The function refuses it at start: its init error is what the night reports.
    return undefined;
  }
  const parsed = SourceOriginsSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The fleet API origins a function calls: FLEET_API_BASE_URL and FLEET_API_TOKEN_URL, and with a `source`
 * configuration its base URL, token URL and dataset endpoints (paths resolve against the base URL).
 */
export function apiOriginsOf(fn: TwinFunction): string[] {
  const source = sourceOf(fn);
  const urls = [
    ...API_VARIABLES.map((name) => fn.environment[name]),
    source?.baseUrl,
    source?.auth?.tokenUrl,
    ...Object.values(source?.datasets ?? {}).map((d) => d.endpoint),
  ];
  const origins = urls.flatMap((url) => {
    if (url === undefined || !URL.canParse(url, source?.baseUrl)) return [];
    return [new URL(url, source?.baseUrl).origin];
  });
  return [...new Set(origins)];
}

/** The OAuth client the function presents: its `source` configuration's, else FLEET_API_CLIENT_ID. */
const clientIdOf = (fn: TwinFunction): string | undefined =>
  sourceOf(fn)?.auth?.clientId ?? fn.environment.FLEET_API_CLIENT_ID;

/**
 * One night of the synthesized stack on the cloud twin: the twin started from the assembly, the template's fleet
 * API origins answered by the built-in simulator (client id from the template, a client secret put into the
 * stack's secret as the deploy guide's put-secret-value does), execution environments for every function,
 * the schedule fired for a night and the stack stepped round by round until nothing moves.
 */
export class TwinNight {
  readonly twin: CloudTwin;
  readonly simulator: RunningSimulator;
  readonly rounds: Round[] = [];
  readonly firings: Firing[] = [];
  readonly #environments = new Map<string, LambdaEnvironment[]>();
  readonly #mapped: MappedQueue[] = [];

  private constructor(twin: CloudTwin, simulator: RunningSimulator) {
    this.twin = twin;
    this.simulator = simulator;
  }

  static async start(options: TwinNightOptions): Promise<TwinNight> {
    const twin = await CloudTwin.start({
      assemblyDir: options.assemblyDir,
      ...(options.stackName === undefined ? {} : { stackName: options.stackName }),
      ...(options.secureTransport === undefined ? {} : { secureTransport: options.secureTransport }),
    });
    let simulator: RunningSimulator | undefined;
    try {
      const functions = [...twin.model.functions.values()];
      const clientSecret = randomBytes(24).toString('base64url');
      const { fleet } = options;
      const clientId = functions.map(clientIdOf).find(Boolean);
      simulator = await startSimulator({
        seed: fleet.seed,
        vehicles: fleet.vehicles,
        readingsPerVehicle: fleet.readingsPerVehicle,
        fleetStart: fleet.fleetStart,
        ...(clientId === undefined ? {} : { clientId }),
        clientSecret,
      });
      // The secret the functions read the client secret from, as the operator fills it after deploying.
      const secretIds = new Set(functions.map((fn) => fn.environment.FLEET_API_SECRET_ID).filter(Boolean));
      for (const secretId of secretIds) {
        const secret = secretId === undefined ? undefined : twin.secrets.find(secretId);
        if (secret !== undefined) twin.secrets.put(secret.arn, clientSecret);
      }
      const night = new TwinNight(twin, simulator);
      try {
        // A function Lambda would not create (a reserved variable, over 4 KB of them) throws here.
        for (const fn of functions) night.#startEnvironments(fn, options.environmentsOf?.(fn) ?? 1);
        night.#mapQueues();
      } catch (error) {
        await night.#stopEnvironments();
        throw error;
      }
      return night;
    } catch (error) {
      await simulator?.close();
      await twin.stop();
      throw error;
    }
  }

  /** A function by its construct path under the stack (`Services/Planner`). */
  functionOf(constructPath: string): TwinFunction {
    return functionOfConstruct(this.twin.model, constructPath);
  }

  environmentsOf(fn: TwinFunction): readonly LambdaEnvironment[] {
    return this.#environments.get(fn.logicalId) ?? [];
  }

  /** The SQS event source mappings, each polling its queue with its function's role. */
  get mappings(): readonly MappedQueue[] {
    return this.#mapped;
  }

  #startEnvironments(fn: TwinFunction, count: number): void {
    const internet = Object.fromEntries(apiOriginsOf(fn).map((origin) => [origin, this.simulator.url]));
    const environments: LambdaEnvironment[] = [];
    this.#environments.set(fn.logicalId, environments);
    for (let i = 0; i < count; i += 1) {
      const environment = new LambdaEnvironment({ fn, environment: this.twin.environmentOf(fn), internet });
      environments.push(environment);
      this.twin.bus.attach(fn, environment);
    }
  }

  #mapQueues(): void {
    for (const mapping of this.twin.model.queueMappings) {
      const fn = this.twin.model.functions.get(mapping.functionLogicalId);
      const queue = [...this.twin.model.queues.values()].find((q) => q.arn === mapping.queueArn);
      const [environment] = fn === undefined ? [] : this.environmentsOf(fn);
      if (fn === undefined || queue === undefined || environment === undefined)
        throw new Error(`${mapping.logicalId}: its function or queue is not in the template`);
      const poller = new QueueMapping({
        mapping,
        queue,
        environment,
        endpoint: this.twin.endpoint,
        credentials: this.twin.credentialsOf(fn),
      });
      this.#mapped.push({ mapping, fn, poller });
    }
  }

  /**
   * Fires every enabled scheduled rule that targets a function of the stack, for a night (YYYY-MM-DD): at its
   * first firing on the morning after. The deliveries wait for the next round.
   */
  fire(night: string): Firing[] {
    const rules = this.twin.model.scheduledRules.filter(
      (rule) => rule.enabled && rule.targets.some((t) => t.functionLogicalId !== undefined),
    );
    const fired = rules.map((rule) => {
      const { time, fromCron } = fireTimeOf(night, rule.scheduleExpression);
      return { rule, night, time, fromCron, targets: this.twin.bus.fireSchedule(rule.arn, time) };
    });
    this.firings.push(...fired);
    return fired;
  }

  /**
   * One round: every pending delivery of the bus (and what the invoked functions put on it meanwhile), then each
   * mapped queue polled until it has nothing visible. Messages of a failed batch are made visible again at the end
   * of the round (their visibility timeout elapsing), so the next round receives them again and the queue's
   * redrive policy moves them to its dead-letter queue after its maxReceiveCount, as in AWS.
   */
  async step(): Promise<Round> {
    const deliveries = await this.twin.bus.deliverPending();
    const batches: Round['batches'] = [];
    for (const { mapping, poller } of this.#mapped) {
      const failed: string[] = [];
      for (let batch = await poller.pollOnce(); batch !== undefined; batch = await poller.pollOnce()) {
        batches.push({ mapping, batch });
        failed.push(...batch.failedReceiptHandles);
      }
      await this.twin.elapseVisibilityTimeout(mapping.queueArn, failed);
    }
    const round = { index: this.rounds.length + 1, deliveries, batches };
    this.rounds.push(round);
    return round;
  }

  /** Whether nothing moves: no delivery pending on the bus and no message on a mapped queue. */
  async quiet(): Promise<boolean> {
    if (!this.twin.bus.quiet) return false;
    for (const { mapping } of this.#mapped) {
      const depth = await this.twin.queues.depth(mapping.queueArn);
      if (depth.visible + depth.inFlight > 0) return false;
    }
    return true;
  }

  /**
   * Steps until quiet, at most `maxRounds` rounds; `onRound` sees each one (progress). Throws
   * NightDidNotSettleError, naming what still moves, when the bound is reached.
   */
  async settle(options: { maxRounds?: number; onRound?: (round: Round) => void } = {}): Promise<Round[]> {
    const maxRounds = options.maxRounds ?? 50;
    const start = this.rounds.length;
    while (!(await this.quiet())) {
      if (this.rounds.length - start >= maxRounds)
        throw new NightDidNotSettleError(
          `the night did not settle in ${maxRounds} rounds: ${await this.#stillMoving()}`,
        );
      // Not `onRound?.(await this.step())`: without onRound, optional chaining would skip the step itself.
      const round = await this.step();
      options.onRound?.(round);
    }
    return this.rounds.slice(start);
  }

  async #stillMoving(): Promise<string> {
    const { bus } = this.twin;
    const moving: string[] = [];
    if (bus.unroutedCount > 0) moving.push(`${bus.unroutedCount} event(s) put on the bus, not routed yet`);
    if (bus.pendingCount > 0) moving.push(`${bus.pendingCount} delivery(ies) pending`);
    for (const { mapping } of this.#mapped) {
      const depth = await this.twin.queues.depth(mapping.queueArn);
      if (depth.visible + depth.inFlight > 0)
        moving.push(`${depth.visible + depth.inFlight} message(s) on ${mapping.queueArn}`);
    }
    return moving.join(', ');
  }

  async #stopEnvironments(): Promise<void> {
    for (const { poller } of this.#mapped) poller.close();
    for (const environments of this.#environments.values())
      for (const environment of environments) await environment.stop();
  }

  async stop(): Promise<void> {
    await this.#stopEnvironments();
    await this.simulator.close();
    await this.twin.stop();
  }
}
