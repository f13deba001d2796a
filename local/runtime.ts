import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { DEFAULT_BUS_NAME, type EventBridgeEnvelope } from '../events/index.js';
import type { SqlSandbox } from '../services/adapters/local/duckdb/duckdb-sandbox.js';
import { FsObjectStore } from '../services/adapters/local/fs-object-store.js';
import { type QueueMessage, SqliteQueue } from '../services/adapters/local/sqlite/sqlite-queue.js';
import { SqliteRunLedger } from '../services/adapters/local/sqlite/sqlite-run-ledger.js';
import { SqliteTaskQueue } from '../services/adapters/local/sqlite/sqlite-task-queue.js';
import { openStateDatabase, type StateDatabase } from '../services/adapters/local/sqlite/state-database.js';
import type { TaskQueue } from '../services/ports/task-queue.js';
import { describeError } from '../services/shared/errors.js';
import { withoutLogFields } from '../services/shared/log-context.js';
import { jsonLogger, type Logger } from '../services/shared/logger.js';
import {
  type EventPattern,
  type QueueTrigger,
  type ServiceDeclaration,
  subscriptionRuleName,
  type TopologyDeclaration,
  type Trigger,
  topology,
} from '../services/topology.js';
import { localConsumerHandler } from './consumer-wiring.js';
import { declaredPublisher } from './declared-publisher.js';
import { lambdaContext } from './lambda-context.js';
import { LocalBus } from './local-bus.js';
import { scopedPorts } from './scoped-ports.js';
import { LOCAL_ONLY_READS, type LocalHandler, type LocalPorts, stageHandlers } from './wiring.js';
import { WorkTracker } from './work-tracker.js';

/** Where everything of a local installation lives, under one folder so an interrupted run can be resumed. */
export function stateLayout(stateDir: string) {
  const root = path.resolve(stateDir);
  return {
    root,
    raw: path.join(root, 'lake', 'raw'),
    warehouse: path.join(root, 'lake', 'warehouse'),
    results: path.join(root, 'results'),
    /** SQLite: the run ledger, the tasks queue and the dead letters, which must survive a crash. */
    state: path.join(root, 'state.sqlite'),
    archive: path.join(root, 'events', 'archive.ndjson'),
    logs: path.join(root, 'logs', 'services.ndjson'),
    duckdb: path.join(root, 'warehouse.duckdb'),
  };
}

export type StateLayout = ReturnType<typeof stateLayout>;

/** What the SQL of a state folder may touch: its lake, and write only to its warehouse (duckdb-sandbox.ts). */
export function sqlSandboxOf(layout: StateLayout): SqlSandbox {
  return { lake: path.dirname(layout.raw), warehouse: layout.warehouse };
}

export type LocalPortsInput = Omit<
  LocalPorts,
  'queue' | 'publisher' | 'rawStore' | 'warehouseStore' | 'resultsStore' | 'ledger' | 'logger'
>;

export interface LocalRuntimeOptions {
  stateDir: string;
  ports: LocalPortsInput;
  /** How long a failed task stays invisible before it is retried; SQS's visibility timeout, scaled down. */
  queueRetryDelayMs?: number;
  /** Asynchronous Lambda invocations are tried this many times before the event goes to a dead letter. */
  deliveryAttempts?: number;
  deliveryRetryDelayMs?: number;
  /**
   * Consumers besides the topology's services, wired exactly as a rule-triggered service is: one bus rule each.
   * This is how a consumer added after some runs receives their events by replay in tests.
   */
  consumers?: readonly ExtraConsumer[];
  /**
   * `paused` leaves the tasks queue alone: no consumers, and tasks an interrupted run left stay queued for the
   * next `etl run`. Replays use it, since they never plan or download.
   */
  queues?: 'consume' | 'paused';
  /**
   * Wraps the ports the runtime built before any service sees them: how the fault suite makes an object store
   * fail writes or the bus refuse entries, without a second wiring of the services.
   */
  decoratePorts?: (ports: LocalPorts) => LocalPorts;
  /** The services to run: services/topology.ts unless a test declares others (a consumer added, say). */
  topology?: TopologyDeclaration;
}

export interface ExtraConsumer {
  name: string;
  pattern: EventPattern;
  handler: LocalHandler;
  timeoutSeconds?: number;
}

/** The bus rule of a consumer (a topology service or an extra consumer), named as the CDK app names it in AWS. */
const ruleNameOf = (consumer: string): string => subscriptionRuleName(DEFAULT_BUS_NAME, consumer);

export interface ReplayOutcome {
  /** Events sent again. */
  replayed: number;
  /** Deliveries per consumer (an event matching two consumers' rules counts once for each). */
  deliveries: Record<string, number>;
}

export interface DeadLetter {
  service: string;
  reason: string;
  body: string;
}

const BatchResponseSchema = z.object({
  batchItemFailures: z.array(z.object({ itemIdentifier: z.string() })),
});

/**
 * The pipeline on one machine, derived from the topology: a bus with one rule per rule-triggered service, the
 * tasks queue feeding its consumer with Lambda-shaped SQS batches, and the schedule's inputs on demand.
 */
export class LocalRuntime {
  readonly layout: ReturnType<typeof stateLayout>;
  readonly bus: LocalBus;
  readonly db: StateDatabase;
  readonly tasks: SqliteQueue;
  readonly ports: LocalPorts;
  readonly deadLetters: DeadLetter[] = [];
  private readonly work = new WorkTracker();
  private readonly declared: TopologyDeclaration;
  private readonly handlers: Record<string, LocalHandler>;
  private readonly consumers = new Map<string, { handler: LocalHandler; timeoutSeconds: number }>();
  private readonly workers: Promise<void>[] = [];
  private readonly redeliveryTimers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly options: LocalRuntimeOptions) {
    this.layout = stateLayout(options.stateDir);
    this.declared = options.topology ?? topology;
    mkdirSync(path.dirname(this.layout.logs), { recursive: true });
    this.bus = new LocalBus({ archiveFile: this.layout.archive, busName: DEFAULT_BUS_NAME });
    this.db = openStateDatabase(this.layout.state);
    this.tasks = new SqliteQueue(this.db, {
      name: 'tasks',
      visibilityTimeoutMs: options.queueRetryDelayMs ?? 500,
      maxReceiveCount: this.declared.queues.tasks.maxReceiveCount,
    });
    const consumeQueues = (options.queues ?? 'consume') === 'consume';
    if (consumeQueues) {
      // Tasks left by an interrupted run are pending work of this one: they are received again. Its writes that
      // never finished left temporary files beside the objects: nothing reads them, and they would pile up.
      this.tasks.recoverAbandoned();
      for (const root of [this.layout.raw, this.layout.warehouse, this.layout.results]) {
        FsObjectStore.removeAbandonedWrites(root);
      }
      for (let i = 0; i < this.tasks.size; i += 1) this.work.begin();
      // A task the previous process released moments before it ended is still invisible.
      if (this.tasks.depth.delayed > 0) this.wakeConsumersOnceVisible();
    }
    const logFile = this.layout.logs;
    const logger = (service: string): Logger =>
      jsonLogger(service, (line) => appendFileSync(logFile, `${line}\n`));
    const ports: LocalPorts = {
      ...options.ports,
      queue: this.taskQueue(),
      publisher: this.bus,
      rawStore: new FsObjectStore(this.layout.raw),
      warehouseStore: new FsObjectStore(this.layout.warehouse),
      resultsStore: new FsObjectStore(this.layout.results),
      ledger: new SqliteRunLedger(this.db),
      logger,
    };
    this.ports = options.decoratePorts?.(ports) ?? ports;
    this.handlers = Object.fromEntries(
      Object.entries(this.declared.services).map(([name, declaration]) => [
        name,
        this.handlerOf(name, declaration),
      ]),
    );
    for (const [name, declaration] of Object.entries(this.declared.services)) {
      const trigger = declaration.trigger;
      const handler = this.handlers[name];
      if (trigger.kind === 'rule' && handler !== undefined) {
        this.consumers.set(name, { handler, timeoutSeconds: declaration.timeoutSeconds });
        this.bus.addRule({
          name: ruleNameOf(name),
          pattern: trigger.pattern,
          target: (event) => this.deliverAsync(name, event),
        });
      } else if (trigger.kind === 'queue' && consumeQueues) {
        this.startConsumers(name, trigger);
      }
    }
    for (const extra of options.consumers ?? []) {
      if (this.consumers.has(extra.name) || Object.hasOwn(this.declared.services, extra.name)) {
        throw new RangeError(`consumer "${extra.name}" is already declared`);
      }
      this.consumers.set(extra.name, { handler: extra.handler, timeoutSeconds: extra.timeoutSeconds ?? 30 });
      this.bus.addRule({
        name: ruleNameOf(extra.name),
        pattern: extra.pattern,
        target: (event) => this.deliverAsync(extra.name, event),
      });
    }
  }

  /** A pipeline stage's own wiring, or, for a consumer of the bus, the one derived from its declaration. */
  private handlerOf(name: string, declaration: ServiceDeclaration): LocalHandler {
    const ports = this.portsOf(name, declaration);
    const stage = stageHandlers[name];
    if (stage !== undefined) return stage(ports);
    if (declaration.trigger.kind !== 'rule') {
      throw new RangeError(
        `service "${name}" is triggered by a ${declaration.trigger.kind}, and has no local wiring`,
      );
    }
    return localConsumerHandler(name, declaration, ports);
  }

  /**
   * The runtime's ports as the service's entry grants them (scoped-ports.ts), as its role and environment are in
   * AWS; its publisher sends only what it `publishes`.
   */
  private portsOf(name: string, declaration: ServiceDeclaration): LocalPorts {
    const ports = { ...this.ports, publisher: declaredPublisher(name, declaration, this.ports.publisher) };
    return scopedPorts(name, declaration, ports, LOCAL_ONLY_READS[name]);
  }

  /** Every consumer with a bus rule: the rule-triggered services of the topology and the extra consumers. */
  get consumerNames(): string[] {
    return [...this.consumers.keys()];
  }

  /**
   * Replays archived events as EventBridge replays an archive: each goes to the rules of `consumers` (all rules
   * when none are named) with `replay-name` set, is not archived again, and is delivered asynchronously with the
   * usual retries. Resolves once every delivery, and whatever it caused, has settled.
   */
  async replay(
    events: readonly EventBridgeEnvelope[],
    options: { replayName: string; consumers?: readonly string[] },
  ): Promise<ReplayOutcome> {
    const named = options.consumers ?? [];
    const unknown = named.filter((name) => !this.consumers.has(name));
    if (unknown.length > 0) {
      throw new RangeError(
        `no consumer named ${unknown.map((n) => `"${n}"`).join(', ')}; consumers: ${this.consumerNames.join(', ')}`,
      );
    }
    const rules = new Set(named.map(ruleNameOf));
    const include = (rule: string) => rules.size === 0 || rules.has(rule);
    const consumerOfRule = new Map(this.consumerNames.map((name) => [ruleNameOf(name), name]));
    const deliveries: Record<string, number> = {};
    for (const event of events) {
      for (const rule of this.bus.replay(event, options.replayName, include)) {
        const consumer = consumerOfRule.get(rule) ?? rule;
        deliveries[consumer] = (deliveries[consumer] ?? 0) + 1;
      }
    }
    await this.settled();
    return { replayed: events.length, deliveries };
  }

  /** Fires the schedule as EventBridge would at `time`: each schedule-triggered service once per input. */
  fireSchedule(time: Date): void {
    for (const [name, declaration] of Object.entries(this.declared.services)) {
      const trigger: Trigger = declaration.trigger;
      if (trigger.kind !== 'schedule') continue;
      for (const input of trigger.inputs) {
        this.deliverAsync(name, { ...input, time: time.toISOString() });
      }
    }
  }

  /** Resolves once no delivery, invocation or queued message is left: the run has done all it can. */
  settled(): Promise<void> {
    return this.work.settled();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.redeliveryTimers) clearTimeout(timer);
    this.redeliveryTimers.clear();
    this.tasks.wakeConsumers();
    await Promise.all(this.workers);
    await this.bus.close();
    this.db.close();
  }

  /** Each queued task is pending work until its consumer deletes it or it is dead-lettered. */
  private taskQueue(): TaskQueue {
    return new SqliteTaskQueue(this.tasks, (messages) => {
      for (let i = 0; i < messages; i += 1) this.work.begin();
    });
  }

  /** Lambda's asynchronous invocation: retried a few times, then the event is kept as a dead letter. */
  private deliverAsync(service: string, event: unknown): void {
    this.work.begin();
    const attempts = this.options.deliveryAttempts ?? 3;
    const delay = this.options.deliveryRetryDelayMs ?? 200;
    const attempt = async (n: number): Promise<void> => {
      try {
        await this.invoke(service, event);
      } catch (error) {
        if (n < attempts && !this.closed) {
          await sleep(delay * n);
          return attempt(n + 1);
        }
        this.deadLetter(service, describeError(error), JSON.stringify(event));
      }
    };
    void attempt(1).finally(() => this.work.end());
  }

  private invoke(service: string, event: unknown): Promise<unknown> {
    // Each invocation starts with no log fields of its own, as in Lambda (services/shared/log-context.ts).
    return withoutLogFields(() => this.invokeHandler(service, event));
  }

  private invokeHandler(service: string, event: unknown): Promise<unknown> {
    const consumer = this.consumers.get(service);
    if (consumer) return consumer.handler(event, lambdaContext(service, consumer.timeoutSeconds));
    const handler = this.handlers[service];
    const declaration = this.declared.services[service];
    if (handler === undefined || declaration === undefined) {
      return Promise.reject(new RangeError(`no service named "${service}"`));
    }
    return handler(event, lambdaContext(service, declaration.timeoutSeconds));
  }

  private startConsumers(service: string, trigger: QueueTrigger): void {
    for (let i = 0; i < trigger.maxConcurrency; i += 1) {
      this.workers.push(this.consume(service, trigger.batchSize));
    }
  }

  /** Lambda's SQS event source mapping: poll a batch, invoke, delete what succeeded, release what failed. */
  private async consume(service: string, batchSize: number): Promise<void> {
    while (!this.closed) {
      const { received, deadLettered } = this.tasks.receive(batchSize);
      for (const message of deadLettered) {
        this.deadLetter(
          service,
          `received ${message.receiveCount} times without success`,
          message.body,
          true,
        );
        this.work.end();
      }
      if (received.length === 0) {
        if (deadLettered.length === 0) await this.tasks.waitForMessages();
        continue;
      }
      const failed = await this.invokeBatch(service, received);
      const released = received.filter((m) => failed.has(m.messageId)).map((m) => m.receiptHandle);
      const deleted = received.filter((m) => !failed.has(m.messageId)).map((m) => m.receiptHandle);
      this.tasks.settle(deleted, released);
      for (const _ of deleted) this.work.end();
      if (released.length > 0) this.wakeConsumersOnceVisible();
    }
  }

  /**
   * Wakes the consumers when released tasks become visible again, on a timer that keeps the process alive. The
   * queue's own wake-up timer is unref'd, so that a queue never holds a process open by itself; while tasks are
   * pending, though, the run is waiting for exactly that wake-up. Without a referenced timer, a process with
   * nothing else alive (an API in another process, no simulator thread) ran out of events while its top-level
   * await was still pending, and Node ended it with exit code 13 and no output.
   */
  private wakeConsumersOnceVisible(): void {
    const timer = setTimeout(() => {
      this.redeliveryTimers.delete(timer);
      this.tasks.wakeConsumers();
    }, this.tasks.options.visibilityTimeoutMs + 1);
    this.redeliveryTimers.add(timer);
  }

  private async invokeBatch(service: string, messages: readonly QueueMessage[]): Promise<Set<string>> {
    const event: SQSEvent = { Records: messages.map((m) => sqsRecord(m, this.tasks.options.name)) };
    try {
      const response = BatchResponseSchema.safeParse(await this.invoke(service, event));
      if (!response.success) return new Set();
      return new Set(response.data.batchItemFailures.map((f) => f.itemIdentifier));
    } catch {
      // A thrown handler fails the whole batch, as in Lambda.
      return new Set(messages.map((m) => m.messageId));
    }
  }

  /**
   * Tasks reach their dead-letter queue in the store by themselves; an event whose target kept failing is kept
   * in the target's own dead-letter queue (`<service>-target-dlq`), as an EventBridge target DLQ would keep it.
   */
  private deadLetter(service: string, reason: string, body: string, alreadyStored = false): void {
    this.deadLetters.push({ service, reason, body });
    if (!alreadyStored) {
      new SqliteQueue(this.db, {
        name: `${service}-target`,
        visibilityTimeoutMs: 0,
        maxReceiveCount: 1,
      }).addDeadLetter(body);
    }
  }
}

function sqsRecord(message: QueueMessage, queueName: string): SQSEvent['Records'][number] {
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? message.sentAt),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:local:000000000000:${queueName}`,
    awsRegion: 'local',
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
