import {
  DescribeReplayCommand,
  DescribeRuleCommand,
  type EventBridgeClient,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import * as z from 'zod';
import { TerminalError } from '../../../shared/errors.js';
import { awsErrorName, classifyAwsError } from '../aws-error.js';
import { realSleep, type Sleep } from '../retry.js';

/** An EventBridge replay of an archive window to the bus it archives, limited to some rules. */
export interface ReplayRequest {
  replayName: string;
  archiveArn: string;
  busArn: string;
  /** EventStartTime: events from this instant on. */
  since: Date;
  /** EventEndTime: events before this instant. */
  until: Date;
  /** Destination.FilterArns: only these rules receive the events; every rule on the bus when empty. */
  ruleArns: readonly string[];
  description?: string;
}

const FINAL_STATES = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);
const ReplayStateSchema = z.enum(['STARTING', 'RUNNING', 'CANCELLING', 'COMPLETED', 'CANCELLED', 'FAILED']);
export type ReplayState = z.infer<typeof ReplayStateSchema>;

/** What DescribeReplay tells of a replay, as much as we use of it. */
const DescribedReplaySchema = z.object({
  ReplayName: z.string(),
  State: ReplayStateSchema,
  StateReason: z.string().optional(),
  EventLastReplayedTime: z.date().optional(),
  ReplayStartTime: z.date().optional(),
  ReplayEndTime: z.date().optional(),
});

export interface ReplayProgress {
  replayName: string;
  state: ReplayState;
  reason?: string;
  /** The event time the replay has reached (it replays minute by minute of event time). */
  lastReplayed?: Date;
  startedAt?: Date;
  endedAt?: Date;
}

export interface EventBridgeReplaysOptions {
  /** How often DescribeReplay is asked while the replay runs. */
  pollIntervalMs?: number;
  sleep?: Sleep;
}

/**
 * Starts and follows EventBridge archive replays
 * (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_StartReplay.html): replayed events carry
 * `replay-name`, go only to the rules in FilterArns, and are not archived again.
 */
export class EventBridgeReplays {
  readonly #client: EventBridgeClient;
  readonly #pollIntervalMs: number;
  readonly #sleep: Sleep;

  constructor(client: EventBridgeClient, options: EventBridgeReplaysOptions = {}) {
    this.#client = client;
    this.#pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.#sleep = options.sleep ?? realSleep;
  }

  /**
   * The ARN of an existing rule on the bus, or a TerminalError naming it: a replay whose FilterArns name a rule
   * that does not exist fails only after it has started, and would replay to nobody.
   */
  async ruleArn(busArn: string, ruleName: string): Promise<string> {
    try {
      const rule = await this.#client.send(new DescribeRuleCommand({ Name: ruleName, EventBusName: busArn }));
      if (rule.Arn === undefined) throw new TerminalError(`DescribeRule ${ruleName} returned no ARN`);
      return rule.Arn;
    } catch (error) {
      if (awsErrorName(error) === 'ResourceNotFoundException') {
        throw new TerminalError(`no rule named "${ruleName}" on ${busArn}`, { cause: error });
      }
      throw classifyAwsError(error, `EventBridge DescribeRule ${ruleName}`);
    }
  }

  async start(request: ReplayRequest): Promise<ReplayProgress> {
    if (request.since.getTime() >= request.until.getTime()) {
      throw new TerminalError(`replay window: since (${request.since.toISOString()}) must be before until`);
    }
    try {
      const output = await this.#client.send(
        new StartReplayCommand({
          ReplayName: request.replayName,
          EventSourceArn: request.archiveArn,
          EventStartTime: request.since,
          EventEndTime: request.until,
          Destination: {
            Arn: request.busArn,
            ...(request.ruleArns.length > 0 ? { FilterArns: [...request.ruleArns] } : {}),
          },
          ...(request.description === undefined ? {} : { Description: request.description }),
        }),
      );
      const state = ReplayStateSchema.safeParse(output.State);
      return {
        replayName: request.replayName,
        state: state.success ? state.data : 'STARTING',
        ...(output.StateReason === undefined ? {} : { reason: output.StateReason }),
        ...(output.ReplayStartTime === undefined ? {} : { startedAt: output.ReplayStartTime }),
      };
    } catch (error) {
      throw classifyAwsError(error, `EventBridge StartReplay ${request.replayName}`);
    }
  }

  async describe(replayName: string): Promise<ReplayProgress> {
    let output: unknown;
    try {
      output = await this.#client.send(new DescribeReplayCommand({ ReplayName: replayName }));
    } catch (error) {
      throw classifyAwsError(error, `EventBridge DescribeReplay ${replayName}`);
    }
    const parsed = DescribedReplaySchema.safeParse(output);
    if (!parsed.success) {
      throw new TerminalError(
        `DescribeReplay ${replayName}: unexpected answer: ${z.prettifyError(parsed.error)}`,
      );
    }
    const r = parsed.data;
    return {
      replayName: r.ReplayName,
      state: r.State,
      ...(r.StateReason === undefined ? {} : { reason: r.StateReason }),
      ...(r.EventLastReplayedTime === undefined ? {} : { lastReplayed: r.EventLastReplayedTime }),
      ...(r.ReplayStartTime === undefined ? {} : { startedAt: r.ReplayStartTime }),
      ...(r.ReplayEndTime === undefined ? {} : { endedAt: r.ReplayEndTime }),
    };
  }

  /** Starts the replay and follows it with DescribeReplay until it is COMPLETED, CANCELLED or FAILED. */
  async run(
    request: ReplayRequest,
    onProgress: (progress: ReplayProgress) => void = () => {},
    signal?: AbortSignal,
  ): Promise<ReplayProgress> {
    let progress = await this.start(request);
    onProgress(progress);
    while (!FINAL_STATES.has(progress.state)) {
      if (signal?.aborted) return progress;
      await this.#sleep(this.#pollIntervalMs);
      progress = await this.describe(request.replayName);
      onProgress(progress);
    }
    return progress;
  }
}
