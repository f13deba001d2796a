import * as z from 'zod';
import { DetailType, type DetailTypeName } from '../../events/index.js';
import type { DeliveryOutcome } from '../events/event-router.js';
import type { TwinFunction } from '../template/stack-model.js';
import {
  findingOf,
  NOT_EMULATED,
  type RefusalFinding,
  type ServiceRefusal,
  serviceRefusalsIn,
} from './suggested-grants.js';
import type { Firing, Round, TwinNight } from './twin-night.js';

/** The pipeline's stages in order, by the event each one announces (README, "How it works"). */
const PIPELINE: readonly DetailTypeName[] = [
  DetailType.PagesPlanned,
  DetailType.PageDownloaded,
  DetailType.DownloadsDrained,
  DetailType.SqlFileExecuted,
  DetailType.EtlDone,
];

/** Invocations of one function that failed the same way. */
export interface LambdaFailure {
  function: string;
  /** How it was invoked: by the bus (asynchronously, with Lambda's retries) or by the queue's mapping. */
  via: 'event' | 'queue';
  errorType: string;
  errorMessage: string;
  /** Failed invocations (retries included) or, for a partial batch response, messages reported failed. */
  count: number;
  notEmulated: boolean;
}

/** A delivery EventBridge could not make: dead-lettered or lost, and the resource-policy statements that would allow it. */
export interface RefusedDelivery {
  kind: 'dead-lettered' | 'dropped' | 'bus-dead-lettered' | 'bus-dropped';
  ruleArn?: string;
  targetId?: string;
  errorCode: string;
  errorMessage: string;
  grants: ServiceRefusal[];
}

export interface DeadLetterQueue {
  queue: string;
  messages: number;
  /** Up to 10 messages, each one line: the reason EventBridge or Lambda gave, or the message itself. */
  samples: { summary: string; notEmulated: boolean }[];
}

export type NightOutcome =
  | { status: 'done'; furthest: DetailTypeName }
  /** Stopped at a call the twin does not emulate: the furthest stage the twin can take this night to. */
  | { status: 'not-emulated'; furthest: DetailTypeName | undefined; stoppedAt: string; service: string }
  | {
      status: 'stopped';
      furthest: DetailTypeName | undefined;
      stoppedAt: string | undefined;
      reason: string;
    };

export interface NightReport {
  stack: string;
  firings: { rule: string; night: string; time: string; fromCron: boolean; targets: number }[];
  rounds: number;
  /** Events put on the bus, by detail-type, in the order first seen. */
  events: Record<string, number>;
  /** Each distinct refused call (caller, action, resource) once, with how often it was refused. */
  refusals: CountedFinding[];
  refusedDeliveries: RefusedDelivery[];
  lambdaFailures: LambdaFailure[];
  deadLetters: DeadLetterQueue[];
  /** EtlFailed events' stage and reason. */
  etlFailed: { stage: string; reason: string }[];
  outcome: NightOutcome;
  /** Passed: EtlDone (or the furthest stage the twin emulates) with nothing refused and nothing failed else. */
  verdict: { passed: boolean; reasons: string[] };
}

export type CountedFinding = RefusalFinding & { count: number };

/** A retried call is refused again and again: once per (caller, action, resource) is what a reader needs. */
function distinctRefusals(findings: readonly RefusalFinding[]): CountedFinding[] {
  const distinct = new Map<string, CountedFinding>();
  for (const finding of findings) {
    const { role, session, action, resource } = finding.call;
    const key = [role, session, action, resource].join('\u0000');
    const known = distinct.get(key);
    if (known !== undefined) known.count += 1;
    else distinct.set(key, { ...finding, count: 1 });
  }
  return [...distinct.values()];
}

const EtlFailedSchema = z.object({ stage: z.string(), reason: z.string() });
const LogLineSchema = z.looseObject({ level: z.string(), message: z.string() });
const FailureRecordSchema = z.object({
  requestContext: z.object({ functionArn: z.string(), condition: z.string() }),
  responsePayload: z.object({ errorType: z.string(), errorMessage: z.string() }).optional(),
});

const serviceNotEmulated = (message: string) => /does not emulate (\S+)/i.exec(message)?.[1] ?? 'a service';

/** What the night did so far: events, refusals with the grants that would allow them, failures, outcome. */
export async function nightReportOf(night: TwinNight): Promise<NightReport> {
  const { twin } = night;
  const events: Record<string, number> = {};
  for (const event of twin.events.events) events[event.detailType] = (events[event.detailType] ?? 0) + 1;
  const refusals = distinctRefusals(twin.refusals.map(findingOf));
  const refusedDeliveries = twin.bus.outcomes.flatMap(refusedDelivery);
  const lambdaFailures = failuresOf(night);
  const deadLetters = await deadLettersOf(night);
  const etlFailed = twin.events.events
    .filter((e) => e.detailType === DetailType.EtlFailed)
    .flatMap((e) => {
      const parsed = EtlFailedSchema.safeParse(e.detail);
      return parsed.success ? [parsed.data] : [];
    });
  const furthest = PIPELINE.filter((stage) => (events[stage] ?? 0) > 0).at(-1);
  const outcome = outcomeOf(night, furthest, { refusals, lambdaFailures, refusedDeliveries, etlFailed });
  const reasons = [
    ...refusals.flatMap((f) =>
      f.kind === 'not-emulated'
        ? []
        : [`${f.call.session} was refused ${f.call.action} on ${f.call.resource}`],
    ),
    ...refusedDeliveries.map((d) => `EventBridge could not deliver (${d.errorCode}): ${d.errorMessage}`),
    ...lambdaFailures
      .filter((f) => !f.notEmulated)
      .map((f) => `${f.function} failed ${f.count}×: ${f.errorType}: ${f.errorMessage}`),
    ...etlFailed
      .filter((f) => !NOT_EMULATED.test(f.reason))
      .map((f) => `EtlFailed in ${f.stage}: ${f.reason}`),
    ...deadLetters.flatMap((q) =>
      q.samples.some((s) => !s.notEmulated) || q.samples.length < q.messages
        ? [`${q.messages} message(s) in ${q.queue}`]
        : [],
    ),
    ...(outcome.status === 'stopped'
      ? [
          `the night stopped before EtlDone${outcome.stoppedAt === undefined ? '' : ` at ${outcome.stoppedAt}`}: ${outcome.reason}`,
        ]
      : []),
  ];
  return {
    stack: twin.model.stackName,
    firings: night.firings.map(firingOf),
    rounds: night.rounds.length,
    events,
    refusals,
    refusedDeliveries,
    lambdaFailures,
    deadLetters,
    etlFailed,
    outcome,
    verdict: { passed: reasons.length === 0, reasons: [...new Set(reasons)] },
  };
}

const firingOf = (f: Firing) => ({
  rule: f.rule.name,
  night: f.night,
  time: f.time.toISOString(),
  fromCron: f.fromCron,
  targets: f.targets,
});

function refusedDelivery(outcome: DeliveryOutcome): RefusedDelivery[] {
  if (outcome.kind === 'invoked' || outcome.kind === 'not-emulated') return [];
  return [
    {
      kind: outcome.kind,
      ...('ruleArn' in outcome ? { ruleArn: outcome.ruleArn, targetId: outcome.targetId } : {}),
      errorCode: outcome.errorCode,
      errorMessage: outcome.errorMessage,
      grants: serviceRefusalsIn(outcome.errorMessage),
    },
  ];
}

/** The last ERROR line a function logged, in its own JSON log format. */
function lastErrorLog(night: TwinNight, fn: TwinFunction): string | undefined {
  const lines = night.environmentsOf(fn).flatMap((environment) => environment.logs);
  for (const line of [...lines].reverse()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const log = LogLineSchema.safeParse(parsed);
    if (log.success && log.data.level === 'ERROR') {
      const { level, service, message, time, messageId, ...fields } = log.data;
      return Object.keys(fields).length === 0 ? message : `${message} ${JSON.stringify(fields)}`;
    }
  }
  return undefined;
}

function failuresOf(night: TwinNight): LambdaFailure[] {
  const { model } = night.twin;
  const grouped = new Map<string, LambdaFailure>();
  const add = (failure: Omit<LambdaFailure, 'notEmulated'>) => {
    const key = `${failure.function}\u0000${failure.via}\u0000${failure.errorType}\u0000${failure.errorMessage}`;
    const known = grouped.get(key);
    if (known !== undefined) known.count += failure.count;
    else grouped.set(key, { ...failure, notEmulated: NOT_EMULATED.test(failure.errorMessage) });
  };
  for (const outcome of night.twin.bus.outcomes) {
    if (outcome.kind !== 'invoked') continue;
    const fn = model.functions.get(outcome.functionLogicalId);
    for (const attempt of outcome.attempts) {
      if (attempt.ok) continue;
      add({
        function: fn?.name ?? outcome.functionLogicalId,
        via: 'event',
        errorType: attempt.error.errorType,
        errorMessage: attempt.error.errorMessage,
        count: 1,
      });
    }
  }
  for (const { mapping, batch } of night.rounds.flatMap((r: Round) => r.batches)) {
    const fn = model.functions.get(mapping.functionLogicalId);
    const name = fn?.name ?? mapping.functionLogicalId;
    if (!batch.invocation.ok) {
      add({
        function: name,
        via: 'queue',
        errorType: batch.invocation.error.errorType,
        errorMessage: batch.invocation.error.errorMessage,
        count: 1,
      });
    } else if (batch.failedMessageIds.length > 0) {
      // The partial batch response names the messages, not why: the function's own log line says.
      const logged = fn === undefined ? undefined : lastErrorLog(night, fn);
      add({
        function: name,
        via: 'queue',
        errorType: 'BatchItemFailures',
        errorMessage: `message(s) reported failed; last error logged: ${logged ?? 'none'}`,
        count: batch.failedMessageIds.length,
      });
    }
  }
  return [...grouped.values()];
}

/** What a dead-lettered message says about why it is there. */
function summaryOf(message: { body: string; attributes: Record<string, string> }): string {
  const { ERROR_CODE: code, ERROR_MESSAGE: why } = message.attributes;
  if (code !== undefined) return `${code}: ${why ?? ''}`;
  let body: unknown;
  try {
    body = JSON.parse(message.body);
  } catch {
    body = undefined;
  }
  const record = FailureRecordSchema.safeParse(body);
  if (record.success) {
    const { requestContext, responsePayload } = record.data;
    const error =
      responsePayload === undefined ? '' : `: ${responsePayload.errorType}: ${responsePayload.errorMessage}`;
    return `${requestContext.condition} for ${requestContext.functionArn}${error}`;
  }
  return message.body.length > 300 ? `${message.body.slice(0, 300)}…` : message.body;
}

async function deadLettersOf(night: TwinNight): Promise<DeadLetterQueue[]> {
  const mapped = new Set(night.mappings.map((m) => m.mapping.queueArn));
  const queues: DeadLetterQueue[] = [];
  for (const queue of night.twin.model.queues.values()) {
    if (mapped.has(queue.arn)) continue;
    const depth = await night.twin.queues.depth(queue.arn);
    const messages = depth.visible + depth.inFlight;
    if (messages === 0) continue;
    const samples = (await night.twin.peekMessages(queue.arn)).map((message) => {
      const summary = summaryOf(message);
      return { summary, notEmulated: NOT_EMULATED.test(summary) };
    });
    queues.push({ queue: queue.name, messages, samples });
  }
  return queues;
}

function outcomeOf(
  night: TwinNight,
  furthest: DetailTypeName | undefined,
  found: {
    refusals: readonly RefusalFinding[];
    lambdaFailures: LambdaFailure[];
    refusedDeliveries: RefusedDelivery[];
    etlFailed: { stage: string; reason: string }[];
  },
): NightOutcome {
  // What stopped the night, most telling first: a refusal names the grant; a failure, the function and error.
  const refusal = found.refusals.find((f) => f.kind !== 'not-emulated');
  const failure = found.lambdaFailures.find((f) => !f.notEmulated);
  const failedRun = found.etlFailed.find((f) => !NOT_EMULATED.test(f.reason));
  const [undelivered] = found.refusedDeliveries;
  if (refusal !== undefined)
    return {
      status: 'stopped',
      furthest,
      stoppedAt: refusal.call.session,
      reason: `${refusal.call.action} on ${refusal.call.resource} was refused`,
    };
  if (failure !== undefined)
    return {
      status: 'stopped',
      furthest,
      stoppedAt: failure.function,
      reason: `${failure.errorType}: ${failure.errorMessage}`,
    };
  if (failedRun !== undefined)
    return { status: 'stopped', furthest, stoppedAt: failedRun.stage, reason: failedRun.reason };
  if (undelivered !== undefined)
    return {
      status: 'stopped',
      furthest,
      stoppedAt: undefined,
      reason: `EventBridge could not deliver: ${undelivered.errorMessage}`,
    };
  if (furthest === DetailType.EtlDone) return { status: 'done', furthest };
  // Only what the twin does not emulate stopped it: a refusal at the front, a function's error, or the run's.
  const unemulated = [
    ...found.refusals.flatMap((f) =>
      f.kind === 'not-emulated' ? [{ at: f.call.session, why: f.call.message }] : [],
    ),
    ...found.lambdaFailures.flatMap((f) => (f.notEmulated ? [{ at: f.function, why: f.errorMessage }] : [])),
    ...found.etlFailed.map((f) => ({ at: f.stage, why: f.reason })),
  ][0];
  if (unemulated !== undefined)
    return {
      status: 'not-emulated',
      furthest,
      stoppedAt: unemulated.at,
      service: serviceNotEmulated(unemulated.why),
    };
  return {
    status: 'stopped',
    furthest,
    stoppedAt: undefined,
    reason:
      night.firings.length === 0
        ? 'no scheduled rule of the template targets a function'
        : 'nothing failed, yet the night ended without EtlDone',
  };
}
