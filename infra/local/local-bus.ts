import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { EventBridgeEnvelope, EventPublisher, OutgoingEvent } from '../../events/index.js';
import { type CompiledPattern, compilePattern, matchesPattern } from './event-pattern.js';

export interface BusRule {
  name: string;
  pattern: Record<string, unknown>;
  target: (event: EventBridgeEnvelope) => void;
}

interface CompiledRule extends BusRule {
  compiled: CompiledPattern;
}

/**
 * The custom bus on one machine: every published event gets an EventBridge envelope, is appended to the
 * archive (NDJSON, for `etl events` and replays) and is handed to the target of every matching rule.
 * Targets run asynchronously, as EventBridge invokes Lambda asynchronously.
 */
export class LocalBus implements EventPublisher {
  private readonly rules: CompiledRule[] = [];
  private readonly listeners: ((event: EventBridgeEnvelope) => void)[] = [];
  private archive: WriteStream | undefined;

  constructor(
    private readonly options: { archiveFile?: string; account?: string; region?: string; busName: string },
  ) {}

  /** Refuses (EventPatternError, naming the rule) a pattern the bus cannot match exactly as EventBridge. */
  addRule(rule: BusRule): void {
    if (this.rules.some((r) => r.name === rule.name)) {
      throw new RangeError(`the bus already has a rule named "${rule.name}"`);
    }
    this.rules.push({ ...rule, compiled: compilePattern(rule.pattern, `rule ${rule.name}`) });
  }

  get ruleNames(): string[] {
    return this.rules.map((r) => r.name);
  }

  /** Observers see every published event after it is archived (the CLI's progress lines use this). */
  onEvent(listener: (event: EventBridgeEnvelope) => void): void {
    this.listeners.push(listener);
  }

  async publish(events: readonly OutgoingEvent[]): Promise<void> {
    for (const outgoing of events) {
      const envelope: EventBridgeEnvelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': outgoing.detailType,
        source: outgoing.source,
        account: this.options.account ?? '000000000000',
        time: (outgoing.time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: this.options.region ?? 'local',
        resources: [],
        detail: JSON.parse(outgoing.detail),
      };
      this.archiveEvent(envelope);
      for (const listener of this.listeners) listener(envelope);
      this.route(envelope, () => true);
    }
  }

  /**
   * Sends an archived event again as an EventBridge replay does: with `replay-name` set, to the rules
   * `includeRule` accepts (the replay's FilterArns; all rules when it has none), and without archiving it again
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-replay-archived-event.html). Returns the names
   * of the rules that matched.
   */
  replay(
    event: EventBridgeEnvelope,
    replayName: string,
    includeRule: (ruleName: string) => boolean,
  ): string[] {
    return this.route({ ...event, 'replay-name': replayName }, includeRule);
  }

  private route(envelope: EventBridgeEnvelope, includeRule: (ruleName: string) => boolean): string[] {
    const matched: string[] = [];
    for (const rule of this.rules) {
      if (includeRule(rule.name) && matchesPattern(rule.compiled, envelope)) {
        matched.push(rule.name);
        rule.target(envelope);
      }
    }
    return matched;
  }

  private archiveEvent(envelope: EventBridgeEnvelope): void {
    const file = this.options.archiveFile;
    if (file === undefined) return;
    if (this.archive === undefined) {
      mkdirSync(path.dirname(file), { recursive: true });
      this.archive = createWriteStream(file, { flags: 'a' });
    }
    this.archive.write(`${JSON.stringify({ bus: this.options.busName, ...envelope })}\n`);
  }

  async close(): Promise<void> {
    const archive = this.archive;
    this.archive = undefined;
    if (archive) await new Promise<void>((resolve) => archive.end(resolve));
  }
}
