import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { replayLocally } from '../local/replay.js';
import { defaultReplayName } from '../local/replay-name.js';
import { relativeToCwd } from '../local/run-pipeline.js';
import {
  EventBridgeReplays,
  type ReplayProgress,
  type ReplayRequest,
} from '../services/adapters/aws/eventbridge/replay.js';
import { subscriptionRuleName } from '../services/topology.js';
import { UsageError } from './args.js';
import { type ParsedFlags, parseFlags } from './command-spec.js';
import { BUS_ARN, replaySpec } from './replay-spec.js';
import { holdStateFolder } from './state-folder.js';

type ReplayFlags = ParsedFlags<(typeof replaySpec)['flags']>;

/**
 * `etl replay`: sends archived events again to the rules of the named consumers. Locally it replays
 * `<state-dir>/events/archive.ndjson`; with `--archive-arn` and `--bus-arn` it starts an EventBridge replay of the
 * archive in AWS and follows it until it ends (credentials and region from the usual AWS environment).
 */
export async function replayCommand(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(replaySpec, argv);
  if (flags.since !== undefined && flags.until !== undefined && flags.since >= flags.until) {
    throw new UsageError('--until: must be after --since');
  }
  const replayName = flags['replay-name'] ?? defaultReplayName(new Date());
  const inAws = flags['archive-arn'] !== undefined || flags['bus-arn'] !== undefined;
  return inAws ? replayInAws(flags, replayName) : replayOnThisMachine(flags, replayName, argv);
}

async function replayOnThisMachine(
  flags: ReplayFlags,
  replayName: string,
  argv: readonly string[],
): Promise<number> {
  if (flags['rule-arn'].length > 0)
    throw new UsageError('--rule-arn needs --archive-arn and --bus-arn (AWS)');
  // The consumers write to the state folder (state.sqlite, the lake, the results) as a run does.
  const lock = await holdStateFolder(flags['state-dir'], ['replay', ...argv], flags.wait);
  try {
    return await replayHere(flags, replayName);
  } finally {
    lock.release();
  }
}

async function replayHere(flags: ReplayFlags, replayName: string): Promise<number> {
  const summary = await replayLocally({
    stateDir: flags['state-dir'],
    selection: {
      ...(flags.since === undefined ? {} : { since: flags.since }),
      ...(flags.until === undefined ? {} : { until: flags.until }),
      detailTypes: flags['detail-type'],
    },
    consumers: flags.consumer,
    replayName,
  });
  const failed = summary.deadLetters.length > 0;
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({
        mode: 'local',
        replayName,
        archive: summary.archive,
        selected: summary.selected,
        deliveries: summary.deliveries,
        deadLetters: summary.deadLetters.map((d) => ({ consumer: d.service, reason: d.reason })),
      })}\n`,
    );
    return failed ? 1 : 0;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (summary.truncatedLastLine !== undefined) {
    process.stderr.write(
      `  skipped line ${summary.truncatedLastLine} of the archive: cut short by a crash while appending\n`,
    );
  }
  out(
    `replay ${replayName} of ${relativeToCwd(summary.archive)}: ${summary.selected} event(s) ` +
      `(${describeSelection(flags)}), to ${flags.consumer.length > 0 ? `the rules of ${flags.consumer.join(', ')}` : 'every rule'}`,
  );
  const deliveries = Object.entries(summary.deliveries);
  if (deliveries.length === 0) out('  no rule matched: nothing was delivered');
  for (const [consumer, n] of deliveries) out(`  ${consumer}: ${n} event(s) delivered`);
  for (const letter of summary.deadLetters) out(`  FAILED ${letter.service}: ${letter.reason}`);
  out(`replayed events carry replay-name "${replayName}" and were not archived again`);
  return failed ? 1 : 0;
}

async function replayInAws(flags: ReplayFlags, replayName: string): Promise<number> {
  const archiveArn = flags['archive-arn'];
  const busArn = flags['bus-arn'];
  if (archiveArn === undefined || busArn === undefined) {
    throw new UsageError('a replay in AWS needs both --archive-arn and --bus-arn');
  }
  if (flags.since === undefined || flags.until === undefined) {
    throw new UsageError('a replay in AWS needs --since and --until: EventBridge replays a bounded window');
  }
  if (flags['detail-type'].length > 0) {
    throw new UsageError(
      '--detail-type cannot be honoured in AWS: EventBridge replays every archived event of the window to the ' +
        'chosen rules, whose patterns do the selecting; choose consumers (--consumer) instead',
    );
  }
  const busName = BUS_ARN.exec(busArn)?.[1] ?? '';
  const client = new EventBridgeClient({});
  const replays = new EventBridgeReplays(client, { pollIntervalMs: flags['poll-seconds'] * 1000 });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  try {
    const ruleArns = [...flags['rule-arn']];
    for (const consumer of flags.consumer) {
      ruleArns.push(await replays.ruleArn(busArn, subscriptionRuleName(busName, consumer)));
    }
    const request: ReplayRequest = {
      replayName,
      archiveArn,
      busArn,
      since: flags.since,
      until: flags.until,
      ruleArns,
      description: `etl replay${flags.consumer.length > 0 ? ` to ${flags.consumer.join(', ')}` : ''}`,
    };
    process.stderr.write(
      `replay ${replayName} of ${archiveArn}: ${flags.since.toISOString()} to ${flags.until.toISOString()}, ` +
        `to ${ruleArns.length > 0 ? ruleArns.join(', ') : `every rule of ${busArn}`}\n`,
    );
    const final = await replays.run(
      request,
      (p) => process.stderr.write(`  ${describeProgress(p)}\n`),
      stop.signal,
    );
    if (flags.json) process.stdout.write(`${JSON.stringify({ mode: 'aws', ...final })}\n`);
    if (stop.signal.aborted && final.state !== 'COMPLETED') {
      process.stderr.write(
        `stopped following; the replay goes on in AWS: aws events describe-replay --replay-name ${replayName}\n`,
      );
      return 1;
    }
    process.stderr.write(`replay ${replayName} ${final.state}${final.reason ? `: ${final.reason}` : ''}\n`);
    return final.state === 'COMPLETED' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    client.destroy();
  }
}

function describeProgress(p: ReplayProgress): string {
  const reached =
    p.lastReplayed === undefined ? '' : `, replayed events up to ${p.lastReplayed.toISOString()}`;
  return `${p.state}${reached}${p.reason ? ` (${p.reason})` : ''}`;
}

function describeSelection(flags: ReplayFlags): string {
  const window =
    flags.since === undefined && flags.until === undefined
      ? 'all times'
      : `${flags.since?.toISOString() ?? 'the beginning'} to ${flags.until?.toISOString() ?? 'now'}`;
  const types = flags['detail-type'].length > 0 ? flags['detail-type'].join(', ') : 'every detail-type';
  return `${window}, ${types}`;
}
