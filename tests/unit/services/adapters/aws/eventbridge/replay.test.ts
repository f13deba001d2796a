import {
  DescribeReplayCommand,
  type DescribeReplayCommandOutput,
  DescribeRuleCommand,
  EventBridgeClient,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import {
  EventBridgeReplays,
  type ReplayProgress,
} from '../../../../../../services/adapters/aws/eventbridge/replay.js';
import { TerminalError, TransientError } from '../../../../../../services/shared/errors.js';
import { clientConfig, recordingSleep, serviceError } from '../factories.js';

const client = new EventBridgeClient(clientConfig);
const eventBridge = mockClient(client);

const ARCHIVE = 'arn:aws:events:eu-west-1:123456789012:archive/fleet-etl-prod';
const BUS = 'arn:aws:events:eu-west-1:123456789012:event-bus/fleet-etl-prod';
const REPORT_RULE = 'arn:aws:events:eu-west-1:123456789012:rule/fleet-etl-prod/fleet-etl-prod-report';

const request = (ruleArns: string[] = [REPORT_RULE]) => ({
  replayName: 'backfill-report',
  archiveArn: ARCHIVE,
  busArn: BUS,
  since: new Date('2026-11-01T00:00:00.000Z'),
  until: new Date('2026-11-25T00:00:00.000Z'),
  ruleArns,
});

const described = (
  State: DescribeReplayCommandOutput['State'],
  extra: Partial<DescribeReplayCommandOutput> = {},
): DescribeReplayCommandOutput => ({
  $metadata: {},
  ReplayName: 'backfill-report',
  EventSourceArn: ARCHIVE,
  State,
  ReplayStartTime: new Date('2026-11-25T09:00:00.000Z'),
  ...extra,
});

beforeEach(() => {
  eventBridge.reset();
});

describe('EventBridgeReplays', () => {
  it('starts a replay of the archive window, limited to the rules given, then follows it until it completes', async () => {
    // Prepare
    eventBridge.on(StartReplayCommand).resolves({ State: 'STARTING', ReplayArn: 'arn:replay' });
    eventBridge
      .on(DescribeReplayCommand)
      .resolvesOnce(described('RUNNING', { EventLastReplayedTime: new Date('2026-11-10T00:00:00.000Z') }))
      .resolvesOnce(described('RUNNING', { EventLastReplayedTime: new Date('2026-11-20T00:00:00.000Z') }))
      .resolvesOnce(described('COMPLETED', { ReplayEndTime: new Date('2026-11-25T09:03:00.000Z') }));
    const { waits, sleep } = recordingSleep();
    const seen: ReplayProgress[] = [];

    // Act
    const final = await new EventBridgeReplays(client, { pollIntervalMs: 2_000, sleep }).run(request(), (p) =>
      seen.push(p),
    );

    // Assess
    const start = eventBridge.commandCalls(StartReplayCommand).map((c) => c.args[0].input);
    expect(start).toEqual([
      {
        ReplayName: 'backfill-report',
        EventSourceArn: ARCHIVE,
        EventStartTime: new Date('2026-11-01T00:00:00.000Z'),
        EventEndTime: new Date('2026-11-25T00:00:00.000Z'),
        Destination: { Arn: BUS, FilterArns: [REPORT_RULE] },
      },
    ]);
    expect(eventBridge.commandCalls(DescribeReplayCommand).map((c) => c.args[0].input)).toEqual(
      Array(3).fill({ ReplayName: 'backfill-report' }),
    );
    expect(seen.map((p) => p.state)).toEqual(['STARTING', 'RUNNING', 'RUNNING', 'COMPLETED']);
    expect(seen[2]?.lastReplayed).toEqual(new Date('2026-11-20T00:00:00.000Z'));
    expect(final).toMatchObject({ state: 'COMPLETED', endedAt: new Date('2026-11-25T09:03:00.000Z') });
    expect(waits).toEqual([2_000, 2_000, 2_000]);
  });

  it('replays to every rule of the bus when no rule is named (no FilterArns)', async () => {
    eventBridge.on(StartReplayCommand).resolves({ State: 'STARTING' });
    eventBridge.on(DescribeReplayCommand).resolves(described('COMPLETED'));
    await new EventBridgeReplays(client, { sleep: recordingSleep().sleep }).run(request([]));
    expect(eventBridge.commandCalls(StartReplayCommand)[0]?.args[0].input.Destination).toEqual({ Arn: BUS });
  });

  it('returns a failed replay with its reason', async () => {
    eventBridge.on(StartReplayCommand).resolves({ State: 'STARTING' });
    eventBridge
      .on(DescribeReplayCommand)
      .resolves(described('FAILED', { StateReason: 'KMS key access denied' }));
    const final = await new EventBridgeReplays(client, { sleep: recordingSleep().sleep }).run(request());
    expect(final).toMatchObject({ state: 'FAILED', reason: 'KMS key access denied' });
  });

  it('stops following, not the replay, when aborted', async () => {
    eventBridge.on(StartReplayCommand).resolves({ State: 'STARTING' });
    eventBridge.on(DescribeReplayCommand).resolves(described('RUNNING'));
    const controller = new AbortController();
    const final = await new EventBridgeReplays(client, { sleep: recordingSleep().sleep }).run(
      request(),
      (p) => {
        if (p.state === 'RUNNING') controller.abort();
      },
      controller.signal,
    );
    expect(final.state).toBe('RUNNING');
    expect(eventBridge.commandCalls(DescribeReplayCommand)).toHaveLength(1);
  });

  it('refuses an empty window before calling AWS', async () => {
    const replays = new EventBridgeReplays(client);
    await expect(replays.start({ ...request(), until: request().since })).rejects.toThrow(TerminalError);
    expect(eventBridge.commandCalls(StartReplayCommand)).toHaveLength(0);
  });

  it('says whether retrying can help when StartReplay fails', async () => {
    const replays = new EventBridgeReplays(client);
    eventBridge
      .on(StartReplayCommand)
      .rejectsOnce(serviceError('ValidationException', 400, 'archive not found'));
    await expect(replays.start(request())).rejects.toThrow(TerminalError);
    eventBridge.on(StartReplayCommand).rejectsOnce(serviceError('ThrottlingException', 400));
    await expect(replays.start(request())).rejects.toThrow(TransientError);
  });

  it('refuses a DescribeReplay answer in a state it does not know', async () => {
    // A state newer than this code: the SDK types cannot express it, so it is put on a valid answer.
    eventBridge.on(DescribeReplayCommand).resolves(Object.assign(described('RUNNING'), { State: 'PAUSED' }));
    await expect(new EventBridgeReplays(client).describe('backfill-report')).rejects.toThrow(
      /unexpected answer/,
    );
  });

  it('finds a rule by name on the bus, or names the one that is missing', async () => {
    const replays = new EventBridgeReplays(client);
    eventBridge.on(DescribeRuleCommand, { Name: 'fleet-etl-prod-report' }).resolves({ Arn: REPORT_RULE });
    eventBridge
      .on(DescribeRuleCommand, { Name: 'fleet-etl-prod-audit' })
      .rejects(serviceError('ResourceNotFoundException', 400, 'Rule fleet-etl-prod-audit does not exist'));
    await expect(replays.ruleArn(BUS, 'fleet-etl-prod-report')).resolves.toBe(REPORT_RULE);
    await expect(replays.ruleArn(BUS, 'fleet-etl-prod-audit')).rejects.toThrow(
      `no rule named "fleet-etl-prod-audit" on ${BUS}`,
    );
  });
});
