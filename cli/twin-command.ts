import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { progressLine } from '../local/progress.js';
import { type AcceptedEntry, busEventOf } from '../twin/events/bus-event.js';
import { cdkFolder, cdkSynth } from '../twin/night/cdk-synth.js';
import { type NightReport, nightReportOf } from '../twin/night/night-report.js';
import {
  apiOriginsOf,
  defaultFleetFor,
  NightDidNotSettleError,
  type Round,
  TwinNight,
} from '../twin/night/twin-night.js';
import { TWIN_ACCOUNT, TWIN_REGION } from '../twin/twin-account.js';
import { UsageError } from './args.js';
import { parseFlags } from './command-spec.js';
import { TWIN_ACTIONS, twinSpec } from './twin-spec.js';

/**
 * `-c deploy/prod.json` is the configuration file, from where etl runs (cdk may run in the repository's root);
 * anything else goes to cdk as its `-c` takes it (KEY=VALUE).
 */
function contextSetting(value: string): string {
  if (value.includes('=')) return value;
  if (value.endsWith('.json')) return `fleet-etl:configFile=${path.resolve(value)}`;
  throw new UsageError(`-c ${value}: expected KEY=VALUE (as cdk's -c takes it) or a configuration FILE.json`);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** `etl twin run`: a deployment tried on this machine before `cdk deploy` (docs/deploy.md). */
export async function twinCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'run')
    throw new UsageError(
      `etl twin takes ${TWIN_ACTIONS.map((a) => `"${a}"`).join(' or ')}, got ${sub === undefined ? 'nothing' : `"${sub}"`}`,
    );
  const parsed = parseFlags(twinSpec, rest);
  const flags = {
    ...parsed,
    date: parsed.date ?? new Date(Date.now() - 86_400_000).toISOString().slice(0, 10),
  };
  if (flags.app !== undefined && flags.context.length > 0)
    throw new UsageError(
      '--app runs an assembly already synthesized: its -c settings were given to cdk synth',
    );
  if (flags.app !== undefined && !existsSync(path.join(flags.app, 'manifest.json')))
    throw new UsageError(`--app ${flags.app}: no cloud assembly there (no manifest.json)`);
  const context = flags.context.map(contextSetting);
  // The SDK clients here are the twin's own (its emulators on loopback), not calls to AWS: their once-a-process
  // warning about releases after January 2027 needing Node.js 22 would only interleave with the rehearsal.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const started = Date.now();
  const timings: Record<string, number> = {};

  const outdir = flags.app ?? mkdtempSync(path.join(tmpdir(), 'fleet-etl-twin-'));
  try {
    if (flags.app === undefined) {
      const cwd = cdkFolder(process.cwd());
      say(
        `etl twin run ${flags.date}: cdk synth${context.map((c) => ` -c ${c}`).join('')} in ${cwd} (bundles with the local esbuild)`,
      );
      const synthStart = Date.now();
      await cdkSynth({ context, outdir, cwd, onLine: (line) => say(`  cdk: ${line}`) });
      timings.synthMs = Date.now() - synthStart;
      say(`  synthesized in ${seconds(timings.synthMs)}`);
    } else {
      say(`etl twin run ${flags.date}: the cloud assembly in ${flags.app}`);
    }

    const twinStart = Date.now();
    const night = await TwinNight.start({
      assemblyDir: outdir,
      fleet: {
        ...defaultFleetFor(flags.date),
        seed: flags.seed,
        vehicles: flags.vehicles,
        readingsPerVehicle: flags.readings,
      },
    });
    let report: NightReport;
    try {
      timings.twinStartMs = Date.now() - twinStart;
      describeSetup(night, say);
      const nightStart = Date.now();
      for (const firing of night.fire(flags.date))
        say(
          `  fired ${firing.rule.name} (${firing.rule.scheduleExpression}) at ${firing.time.toISOString()}: ${firing.targets} target(s)` +
            (firing.fromCron ? '' : ' (a rate has no time of day: fired at 01:00 UTC)'),
        );
      let seen = 0;
      const onRound = (round: Round) => {
        const events = night.twin.events.events.slice(seen);
        seen += events.length;
        say(
          `  round ${round.index}: ${round.deliveries.length} event delivery(ies), ${round.batches.length} queue batch(es)`,
        );
        for (const event of events) say(`    ${describe(event)}`);
      };
      let unsettled: string | undefined;
      try {
        await night.settle({ maxRounds: flags['max-rounds'], onRound });
      } catch (error) {
        if (!(error instanceof NightDidNotSettleError)) throw error;
        unsettled = error.message;
      }
      timings.nightMs = Date.now() - nightStart;
      report = await nightReportOf(night);
      // What the night did up to the bound is still worth reading; the verdict says it did not finish.
      if (unsettled !== undefined)
        report = { ...report, verdict: { passed: false, reasons: [...report.verdict.reasons, unsettled] } };
    } finally {
      await night.stop();
    }
    timings.totalMs = Date.now() - started;
    printReport(report, night, timings);
    if (flags.json) process.stdout.write(`${JSON.stringify({ ...report, timings })}\n`);
    return report.verdict.passed ? 0 : 1;
  } finally {
    if (flags.app === undefined) rmSync(outdir, { recursive: true, force: true });
  }
}

function describe(event: AcceptedEntry): string {
  try {
    return progressLine(busEventOf(event)) ?? event.detailType;
  } catch {
    // An event that does not parse is itself worth showing: the consumers will refuse it.
    return `${event.detailType} (its detail does not match the event's schema)`;
  }
}

function describeSetup(night: TwinNight, say: (line: string) => void): void {
  const { model } = night.twin;
  say(
    `  stack ${model.stackName} on the cloud twin: ${model.functions.size} function(s), ` +
      `${model.queueMappings.length} SQS mapping(s), ${model.eventRules.length + model.scheduledRules.length} rule(s); AWS endpoints at ${night.twin.endpoint}`,
  );
  const origins = new Set([...model.functions.values()].flatMap(apiOriginsOf));
  say(
    `  fleet API ${[...origins].join(', ') || '(none named)'} answered by the simulator on ${night.simulator.url}, a generated client secret in the stack's secret`,
  );
  if ([...model.functions.values()].some((fn) => fn.environment.FLEET_SOURCE_CONFIG !== undefined))
    say(
      "  note: the functions read a `source` configuration; the simulator answers the seed API's shape (etl.config.example.json), another shape fails there",
    );
}

function printReport(report: NightReport, night: TwinNight, timings: Record<string, number>): void {
  const out: string[] = [];
  const roleName = (logicalId: string) => night.twin.model.roles.get(logicalId)?.name ?? logicalId;
  const events = Object.entries(report.events).map(([type, count]) => `${type} ${count}`);
  out.push(`events on the bus: ${events.join(', ') || 'none'}`);
  const denied = report.refusals.filter((f) => f.kind !== 'not-emulated');
  if (denied.length === 0 && report.refusedDeliveries.length === 0) out.push('denied calls: none');
  for (const finding of denied) {
    const { call } = finding;
    out.push(
      `DENIED ${call.session}: ${call.action} on ${call.resource} (${finding.count}×)`,
      `  ${call.message}`,
    );
    if (finding.kind === 'missing-grant') {
      out.push(
        `  grant that would allow it, in the policy of role ${roleName(call.role)}${finding.note === undefined ? '' : ` (${finding.note})`}:`,
        `  ${JSON.stringify(finding.statement)}`,
      );
    } else if (finding.kind === 'undeclared-detail-type') {
      out.push(
        "  the role may put only the detail-types the service's topology entry publishes: declare it there, or do not send it",
      );
    } else {
      out.push('  an explicit Deny refuses it: no grant can allow it; the call itself has to change');
    }
  }
  if (denied.some((f) => f.kind === 'missing-grant'))
    out.push(
      `(ARNs name the twin's account ${TWIN_ACCOUNT} and region ${TWIN_REGION}; in the CDK app, grant it on the construct, as infra/constructs/ does)`,
    );
  for (const delivery of report.refusedDeliveries) {
    out.push(`UNDELIVERED (${delivery.kind}, ${delivery.errorCode}): ${delivery.errorMessage}`);
    for (const grant of delivery.grants)
      out.push(
        `  statement for the policy of ${grant.resource} that would allow it:`,
        `  ${JSON.stringify(grant.statement)}`,
      );
  }
  for (const failure of report.lambdaFailures.filter((f) => !f.notEmulated))
    out.push(
      `FAILED ${failure.function} (${failure.via}, ${failure.count}×): ${failure.errorType}: ${failure.errorMessage}`,
    );
  for (const queue of report.deadLetters) {
    out.push(`dead letters: ${queue.messages} message(s) in ${queue.queue}`);
    for (const sample of queue.samples) out.push(`  ${sample.summary}`);
  }
  for (const failed of report.etlFailed) out.push(`EtlFailed in ${failed.stage}: ${failed.reason}`);
  out.push(verdictLine(report));
  for (const reason of report.verdict.reasons) out.push(`  - ${reason}`);
  out.push(
    `took ${seconds(timings.totalMs ?? 0)}: ` +
      [
        timings.synthMs === undefined
          ? undefined
          : `cdk synth (bundles included) ${seconds(timings.synthMs)}`,
        `twin start ${seconds(timings.twinStartMs ?? 0)}`,
        `night ${seconds(timings.nightMs ?? 0)} in ${report.rounds} round(s)`,
      ]
        .filter(Boolean)
        .join(', '),
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

function verdictLine(report: NightReport): string {
  const { outcome, verdict } = report;
  const word = verdict.passed ? 'PASSED' : 'FAILED';
  switch (outcome.status) {
    case 'done':
      return `${word}: the night reached EtlDone on the twin`;
    case 'not-emulated':
      return (
        `${word}: the night reached ${outcome.furthest ?? 'no stage'}, the furthest the twin emulates: ` +
        `${outcome.stoppedAt} calls ${outcome.service}, which the twin does not emulate yet ` +
        '(twin/README.md); nothing after it was tried'
      );
    case 'stopped':
      return `${word}: the night stopped after ${outcome.furthest ?? 'no stage'}${outcome.stoppedAt === undefined ? '' : ` at ${outcome.stoppedAt}`}: ${outcome.reason}`;
  }
}
