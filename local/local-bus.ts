import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import {
  type EventBridgeEnvelope,
  EventContractError,
  type EventPublisher,
  entryBytes,
  MAX_EVENT_BYTES,
  type OutgoingEvent,
} from '../events/index.js';
import { dropTornLastLine } from './archive.js';
import { type CompiledPattern, compilePattern, matchesCompiled } from './event-pattern.js';

/** Up to this much archive text waits in memory for the disk before publishers are made to wait. */
const ARCHIVE_HIGH_WATER_MARK = 1024 * 1024;

const everyRule = () => true;

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
  private drained: Promise<unknown> | undefined;
  private archiveError: Error | undefined;

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

  /**
   * Builds the envelopes, appends them to the archive in one write, then hands each to the listeners and to the
   * targets of the matching rules. The archive line carries the detail's JSON text as published (the envelope
   * holds it parsed): no second serialization, and what a target does to its event never reaches the archive.
   */
  async publish(events: readonly OutgoingEvent[]): Promise<void> {
    const envelopes: EventBridgeEnvelope[] = [];
    let lines = '';
    for (const outgoing of events) {
      // As EventBridge: an entry over 256 KB is refused (the claim check, decision 60, keeps ours under it).
      const size = entryBytes(outgoing);
      if (size >= MAX_EVENT_BYTES) {
        throw new EventContractError(
          `refusing to publish ${outgoing.detailType} of ${size} bytes: over EventBridge's 256 KB`,
        );
      }
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
      envelopes.push(envelope);
      if (this.options.archiveFile !== undefined) lines += this.archiveLine(envelope, outgoing.detail);
    }
    const archived = this.archiveLines(lines);
    for (const envelope of envelopes) {
      for (const listener of this.listeners) listener(envelope);
      this.route(envelope, everyRule);
    }
    await archived;
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
      if (includeRule(rule.name) && matchesCompiled(rule.compiled, envelope)) {
        matched.push(rule.name);
        rule.target(envelope);
      }
    }
    return matched;
  }

  /**
   * `{"bus": …, ...envelope}` as one line of JSON, with the detail's text as published (it is JSON already);
   * a detail spread over lines is written again on one.
   */
  private archiveLine(envelope: EventBridgeEnvelope, detail: string): string {
    const { detail: parsed, ...fields } = envelope;
    const oneLine = /[\n\r]/.test(detail) ? JSON.stringify(parsed) : detail;
    return `${JSON.stringify({ bus: this.options.busName, ...fields }).slice(0, -1)},"detail":${oneLine}}\n`;
  }

  /**
   * Appends a publish call's lines in one write. When the stream holds more than its high-water mark the call
   * waits for it to drain, so a fast producer is slowed to the disk's pace instead of filling memory.
   */
  private archiveLines(lines: string): Promise<unknown> | undefined {
    const file = this.options.archiveFile;
    if (file === undefined || lines === '') return undefined;
    if (this.archive === undefined) {
      mkdirSync(path.dirname(file), { recursive: true });
      dropTornLastLine(file);
      this.archive = createWriteStream(file, { flags: 'a', highWaterMark: ARCHIVE_HIGH_WATER_MARK });
      // A failed append (a full disk) is this publish's failure and every later one's, not an unhandled 'error'
      // event that ends the process with a stack trace.
      this.archive.on('error', (error) => {
        this.archiveError ??= error;
      });
    }
    if (this.archiveError !== undefined) {
      return Promise.reject(
        new Error(`cannot append to the event archive ${file}: ${this.archiveError.message}`),
      );
    }
    if (this.archive.write(lines)) return undefined;
    // One listener however many publishers wait: each would otherwise add its own to the stream.
    this.drained ??= once(this.archive, 'drain').finally(() => {
      this.drained = undefined;
    });
    return this.drained;
  }

  async close(): Promise<void> {
    const archive = this.archive;
    this.archive = undefined;
    if (archive === undefined) return;
    if (this.archiveError !== undefined || archive.destroyed) {
      archive.destroy();
      return;
    }
    await new Promise<void>((resolve) => archive.end(resolve));
  }
}
