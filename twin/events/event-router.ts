import { randomUUID } from 'node:crypto';
import { type CompiledPattern, compilePattern, matchesCompiled } from '../../local/event-pattern.js';
import type { IamAuthorizer } from '../iam/iam-authorizer.js';
import type { InvocationResult, LambdaEnvironment } from '../lambda/lambda-runner.js';
import type { TwinClock } from '../lambda/twin-clock.js';
import { DEFAULT_ASYNC_INVOKE } from '../template/event-routing.js';
import type {
  StackModel,
  TwinArchive,
  TwinEventBus,
  TwinEventRule,
  TwinFunction,
  TwinRuleTarget,
  TwinScheduledRule,
} from '../template/stack-model.js';
import { TWIN_ACCOUNT, TWIN_REGION } from '../twin-account.js';
import { type AcceptedEntry, type BusEvent, busEventOf } from './bus-event.js';
import { scheduledEvent, targetPayload } from './target-input.js';

const EVENTS_SERVICE = 'events.amazonaws.com';

/**
 * Lambda's waits before the retries of a failed asynchronous invocation: one minute before the second attempt,
 * two before the third (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
 */
export const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000] as const;

/** What became of one event for one target. */
export type DeliveryOutcome =
  | {
      kind: 'invoked';
      eventId: string;
      ruleArn: string;
      targetId: string;
      functionLogicalId: string;
      /** Lambda's attempts of the asynchronous invocation: the first and its retries. */
      attempts: readonly InvocationResult[];
      /** Where the failed invocation's record went (the function's on-failure destination), if it failed. */
      failureDestination: string | undefined;
    }
  | {
      kind: 'dead-lettered' | 'dropped';
      eventId: string;
      ruleArn: string;
      targetId: string;
      errorCode: string;
      errorMessage: string;
    }
  /** The bus could not use its key for the event: it went to the bus's dead-letter queue, or was lost. */
  | { kind: 'bus-dead-lettered' | 'bus-dropped'; eventId: string; errorCode: string; errorMessage: string }
  /** A target the twin does not run (a log group, a topic): the event is counted, not delivered. */
  | { kind: 'not-emulated'; eventId: string; ruleArn: string; targetId: string; targetArn: string };

export interface ArchivedEvent {
  archiveName: string;
  event: BusEvent;
}

interface Delivery {
  event: BusEvent;
  rule: TwinEventRule | TwinScheduledRule;
  target: TwinRuleTarget;
}

export interface EventRouterOptions {
  /** Moved on by Lambda's delays between retries instead of waiting them out; without one, retries come at once. */
  clock?: TwinClock;
  model: StackModel;
  authorizer: IamAuthorizer;
  /** EventBridge's send to a target's dead-letter queue, already authorized (straight to the emulator). */
  sendAsEventBridge(queueArn: string, body: string, attributes: Record<string, string>): Promise<void>;
  /** Lambda's send to an on-failure destination, with the function's execution role (through the front). */
  sendAsFunction(fn: TwinFunction, queueArn: string, body: string): Promise<void>;
}

/**
 * The template's buses at work: every accepted event is archived by the archives whose pattern it matches, and
 * handed to each target of each enabled rule whose pattern matches (the project's Event Ruler-faithful matcher).
 * Delivery is stepped by the caller (`deliverPending`), as the SQS mapping is polled: EventBridge invokes a
 * function asynchronously only if the function's resource policy lets events.amazonaws.com do it for that rule;
 * a refused delivery is not retried and goes to the target's dead-letter queue, as EventBridge does with
 * permission errors (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html). Once
 * Lambda accepted it, the function's errors are Lambda's to retry (its EventInvokeConfig) and to send to its
 * on-failure destination. Retries happen at once; the twin does not wait out Lambda's delays between them but
 * moves its clock on by them (the time the functions see), and ignores event ages.
 */
export class TwinEventRouter {
  readonly #options: EventRouterOptions;
  readonly #patterns = new Map<string, CompiledPattern>();
  /** Each function's execution environments; a busy one takes no second invocation, as in Lambda. */
  readonly #environments = new Map<string, LambdaEnvironment[]>();
  readonly #busy = new Set<LambdaEnvironment>();
  readonly #incoming: AcceptedEntry[] = [];
  readonly #pending: Delivery[] = [];
  readonly #routed = new Map<string, { busArn: string; event: BusEvent }>();
  readonly archived: ArchivedEvent[] = [];
  readonly outcomes: DeliveryOutcome[] = [];

  constructor(options: EventRouterOptions) {
    this.#options = options;
    for (const rule of options.model.eventRules) this.#patterns.set(rule.arn, compilePattern(rule.pattern));
    for (const archive of options.model.archives)
      if (archive.pattern !== undefined) this.#patterns.set(archive.arn, compilePattern(archive.pattern));
  }

  /**
   * An execution environment asynchronous invocations of a function run in. Attach several to have that many
   * invocations of the function run at once, as Lambda scales out for an event source.
   */
  attach(fn: TwinFunction, environment: LambdaEnvironment): void {
    this.#environments.set(fn.logicalId, [...(this.#environments.get(fn.logicalId) ?? []), environment]);
  }

  /**
   * An entry PutEvents accepted. EventBridge processes it after answering: the twin does when it next delivers
   * (`deliverPending`), encrypting it with the bus's key, archiving it and queueing it for every matching rule.
   */
  accept(entry: AcceptedEntry): void {
    this.#incoming.push(entry);
  }

  async #processIncoming(): Promise<void> {
    for (let entry = this.#incoming.shift(); entry !== undefined; entry = this.#incoming.shift()) {
      const event = busEventOf(entry);
      const bus = [...this.#options.model.eventBuses.values()].find((b) => b.arn === entry.busArn);
      const refused = bus === undefined ? undefined : await this.#keyRefusal(bus, 'kms:GenerateDataKey');
      if (refused !== undefined && bus !== undefined) {
        this.outcomes.push(await this.#busDeadLetter(bus, event, refused));
        continue;
      }
      this.#routed.set(event.id, { busArn: entry.busArn, event });
      for (const archive of this.#options.model.archives) {
        if (archive.busArn === entry.busArn && this.#matches(archive, event))
          this.archived.push({ archiveName: archive.name, event });
      }
      this.#queue(entry.busArn, event);
    }
  }

  /**
   * EventBridge's own use of a bus's customer managed key, allowed only by the key policy, with the bus in the
   * source ARN and the encryption context (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html).
   */
  async #keyRefusal(bus: TwinEventBus, action: string): Promise<string | undefined> {
    if (bus.kmsKeyArn === undefined) return undefined;
    const decision = await this.#options.authorizer.authorizeService({
      service: EVENTS_SERVICE,
      action,
      resource: bus.kmsKeyArn,
      sourceArn: bus.arn,
      context: { 'kms:EncryptionContext:aws:events:event-bus:arn': bus.arn },
    });
    return decision.allowed ? undefined : decision.message;
  }

  /** An event the bus could not encrypt: to the bus's dead-letter queue if its policy lets EventBridge send. */
  async #busDeadLetter(bus: TwinEventBus, event: BusEvent, message: string): Promise<DeliveryOutcome> {
    const errorCode = 'KMS_ACCESS_DENIED';
    const base = { eventId: event.id, errorCode, errorMessage: message };
    if (bus.deadLetterArn === undefined) return { kind: 'bus-dropped', ...base };
    const refused = await this.#queueRefusal(bus.deadLetterArn, bus.arn);
    if (refused !== undefined)
      return { kind: 'bus-dropped', ...base, errorMessage: `${message}; ${refused}` };
    await this.#options.sendAsEventBridge(bus.deadLetterArn, JSON.stringify(event), {
      ERROR_CODE: errorCode,
      ERROR_MESSAGE: message,
    });
    return { kind: 'bus-dead-lettered', ...base };
  }

  /**
   * Whether EventBridge may send to a queue for a source: the queue's policy, and its key's policy when the queue
   * is encrypted with a customer managed key (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
   */
  async #queueRefusal(queueArn: string, sourceArn: string): Promise<string | undefined> {
    const queue = [...this.#options.model.queues.values()].find((q) => q.arn === queueArn);
    const checks = [
      { action: 'sqs:SendMessage', resource: queueArn },
      ...(queue?.kmsKeyArn === undefined
        ? []
        : [{ action: 'kms:GenerateDataKey', resource: queue.kmsKeyArn }]),
    ];
    for (const check of checks) {
      const decision = await this.#options.authorizer.authorizeService({
        service: EVENTS_SERVICE,
        ...check,
        sourceArn,
      });
      if (!decision.allowed) return decision.message;
    }
    return undefined;
  }

  /**
   * The same event routed again, as EventBridge's at-least-once delivery may: same id, same detail. Returns how
   * many deliveries were queued.
   */
  async redeliver(eventId: string): Promise<number> {
    await this.#processIncoming();
    const routed = this.#routed.get(eventId);
    if (routed === undefined) throw new Error(`no event ${eventId} went through the bus`);
    return this.#queue(routed.busArn, routed.event);
  }

  /**
   * A replay of an archive (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-replay-archived-event.html):
   * its events, in order, put back on the archive's bus carrying `replay-name`, to every rule or to the rules of
   * `ruleArns` (the replay's FilterArns). Returns how many deliveries were queued.
   */
  async replay(
    archiveName: string,
    options: { replayName: string; ruleArns?: readonly string[] },
  ): Promise<number> {
    await this.#processIncoming();
    const archive = this.#options.model.archives.find((a) => a.name === archiveName);
    if (archive === undefined) throw new Error(`no archive ${archiveName} in the template`);
    let queued = 0;
    for (const { event } of this.archived.filter((a) => a.archiveName === archiveName)) {
      queued += this.#queue(
        archive.busArn,
        { ...event, 'replay-name': options.replayName },
        options.ruleArns,
      );
    }
    return queued;
  }

  /**
   * A schedule firing: the rule's Scheduled Event, queued for each of its targets, delivered like any other
   * (the scheduler's own timing is not run). Returns how many deliveries were queued.
   */
  fireSchedule(ruleArn: string, time: Date): number {
    const rule = this.#options.model.scheduledRules.find((r) => r.arn === ruleArn);
    if (rule === undefined) throw new Error(`no scheduled rule ${ruleArn} in the template`);
    if (!rule.enabled) return 0;
    const event = scheduledEvent({ time, ruleArn, account: TWIN_ACCOUNT, region: TWIN_REGION });
    for (const target of rule.targets) this.#pending.push({ event, rule, target });
    return rule.targets.length;
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Events PutEvents accepted that the bus has not routed yet (it does on the next `deliverPending`). */
  get unroutedCount(): number {
    return this.#incoming.length;
  }

  /** Nothing to route or deliver: no accepted event waits for processing and no delivery is pending. */
  get quiet(): boolean {
    return this.#incoming.length === 0 && this.#pending.length === 0;
  }

  /**
   * Delivers until nothing is pending, including what the invoked functions put on the bus meanwhile. With `to`,
   * only deliveries to those functions (logical ids) run; the others stay pending, in order, as if their
   * functions had not been reached yet. Targets the twin does not run (log groups, topics) are passed over.
   */
  async deliverPending(options: { to?: readonly string[] } = {}): Promise<DeliveryOutcome[]> {
    const outcomes: DeliveryOutcome[] = [];
    const held: Delivery[] = [];
    const inFlight = new Set<Promise<void>>();
    await this.#processIncoming();
    for (;;) {
      const next = this.#pending.shift();
      if (next === undefined) {
        if (inFlight.size === 0) break;
        await Promise.race(inFlight);
        continue;
      }
      const fnId = next.target.functionLogicalId;
      if (fnId !== undefined && options.to !== undefined && !options.to.includes(fnId)) {
        held.push(next);
        continue;
      }
      const pool = fnId === undefined ? [] : (this.#environments.get(fnId) ?? []);
      const free = pool.find((environment) => !this.#busy.has(environment));
      if (pool.length > 0 && free === undefined) {
        // Every environment of the function is busy: this delivery waits for one, in its place.
        this.#pending.unshift(next);
        await Promise.race(inFlight);
        continue;
      }
      if (free !== undefined) this.#busy.add(free);
      const running: Promise<void> = this.#deliver(next, free)
        .then(async (outcome) => {
          outcomes.push(outcome);
          this.outcomes.push(outcome);
          // What the function put on the bus meanwhile.
          await this.#processIncoming();
        })
        .finally(() => {
          if (free !== undefined) this.#busy.delete(free);
          inFlight.delete(running);
        });
      inFlight.add(running);
      // One environment per function: deliveries keep their order, as with a single execution environment.
      if (pool.length <= 1) await running;
    }
    this.#pending.push(...held);
    return outcomes;
  }

  /** What is waiting for a function (a test's view of its async queue). */
  pendingFor(functionLogicalId: string): readonly BusEvent[] {
    return this.#pending.filter((d) => d.target.functionLogicalId === functionLogicalId).map((d) => d.event);
  }

  #matches(ruleOrArchive: TwinEventRule | TwinArchive, event: BusEvent): boolean {
    const compiled = this.#patterns.get(ruleOrArchive.arn);
    return compiled === undefined || matchesCompiled(compiled, event);
  }

  #queue(busArn: string, event: BusEvent, ruleArns?: readonly string[]): number {
    let queued = 0;
    for (const rule of this.#options.model.eventRules) {
      if (rule.busArn !== busArn || !rule.enabled || !this.#matches(rule, event)) continue;
      if (ruleArns !== undefined && !ruleArns.includes(rule.arn)) continue;
      for (const target of rule.targets) {
        this.#pending.push({ event, rule, target });
        queued += 1;
      }
    }
    return queued;
  }

  async #deliver(
    { event, rule, target }: Delivery,
    environment: LambdaEnvironment | undefined,
  ): Promise<DeliveryOutcome> {
    const base = { eventId: event.id, ruleArn: rule.arn, targetId: target.id };
    if (target.functionLogicalId === undefined)
      return { kind: 'not-emulated', ...base, targetArn: target.arn };
    const fn = this.#options.model.functions.get(target.functionLogicalId);
    if (fn === undefined) throw new Error(`${target.functionLogicalId} is no function of the model`);
    const bus = [...this.#options.model.eventBuses.values()].find((b) => b.arn === rule.busArn);
    const undecryptable = bus === undefined ? undefined : await this.#keyRefusal(bus, 'kms:Decrypt');
    // A decryption error while sending to a target goes to the target's dead-letter queue.
    if (undecryptable !== undefined)
      return this.#deadLetter(base, event, target, 'KMS_ACCESS_DENIED', undecryptable);
    const permitted = await this.#options.authorizer.authorizeService({
      service: EVENTS_SERVICE,
      action: 'lambda:InvokeFunction',
      resource: fn.arn,
      sourceArn: rule.arn,
    });
    if (!permitted.allowed) return this.#deadLetter(base, event, target, 'NO_PERMISSIONS', permitted.message);
    if (environment === undefined)
      throw new Error(`${fn.logicalId} is a target of ${rule.name} but has no environment attached`);
    const payload = targetPayload(target.input, event);
    const attempts = await this.#invokeAsync(fn, environment, payload);
    const failed = attempts.at(-1)?.ok === false;
    const config = this.#asyncConfigOf(fn);
    if (failed && config.onFailureArn !== undefined)
      await this.#options.sendAsFunction(
        fn,
        config.onFailureArn,
        JSON.stringify(failureRecord(fn, payload, attempts)),
      );
    return {
      kind: 'invoked',
      ...base,
      functionLogicalId: fn.logicalId,
      attempts,
      failureDestination: failed ? config.onFailureArn : undefined,
    };
  }

  async #invokeAsync(
    fn: TwinFunction,
    environment: LambdaEnvironment,
    payload: unknown,
  ): Promise<InvocationResult[]> {
    const attempts: InvocationResult[] = [];
    const { maximumRetryAttempts } = this.#asyncConfigOf(fn);
    for (;;) {
      attempts.push(await environment.invoke(payload));
      if (attempts.at(-1)?.ok !== false || attempts.length > maximumRetryAttempts) break;
      const delay = ASYNC_RETRY_DELAYS_MS[attempts.length - 1] ?? ASYNC_RETRY_DELAYS_MS.at(-1) ?? 0;
      this.#options.clock?.advance(delay);
    }
    return attempts;
  }

  #asyncConfigOf(fn: TwinFunction) {
    return (
      this.#options.model.asyncInvokeConfigs.find((c) => c.functionLogicalId === fn.logicalId) ?? {
        ...DEFAULT_ASYNC_INVOKE,
        onFailureArn: undefined,
      }
    );
  }

  /**
   * EventBridge's dead-lettering: the event, with the reason in message attributes, sent to the target's queue if
   * its policy lets EventBridge send for this rule; otherwise the event is lost
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
   */
  async #deadLetter(
    base: { eventId: string; ruleArn: string; targetId: string },
    event: BusEvent,
    target: TwinRuleTarget,
    errorCode: string,
    errorMessage: string,
  ): Promise<DeliveryOutcome> {
    const queueArn = target.deadLetterArn;
    if (queueArn === undefined) return { kind: 'dropped', ...base, errorCode, errorMessage };
    const refused = await this.#queueRefusal(queueArn, base.ruleArn);
    if (refused !== undefined)
      return { kind: 'dropped', ...base, errorCode, errorMessage: `${errorMessage}; ${refused}` };
    await this.#options.sendAsEventBridge(queueArn, JSON.stringify(event), {
      RULE_ARN: base.ruleArn,
      TARGET_ARN: target.arn,
      ERROR_CODE: errorCode,
      ERROR_MESSAGE: errorMessage,
    });
    return { kind: 'dead-lettered', ...base, errorCode, errorMessage };
  }
}

/** The record Lambda sends to an on-failure destination (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html). */
function failureRecord(fn: TwinFunction, payload: unknown, attempts: readonly InvocationResult[]) {
  const last = attempts.at(-1);
  return {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: randomUUID(),
      functionArn: `${fn.arn}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: attempts.length,
    },
    requestPayload: payload,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: last !== undefined && !last.ok ? last.error : undefined,
  };
}
