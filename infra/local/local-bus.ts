import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { EventBridgeEnvelope, EventPublisher, OutgoingEvent } from '../../events/index.js';
import { assertSupportedPattern, matchesPattern } from './event-pattern.js';

export interface BusRule {
  name: string;
  pattern: Record<string, unknown>;
  target: (event: EventBridgeEnvelope) => void;
}

/**
 * The custom bus on one machine: every published event gets an EventBridge envelope, is appended to the
 * archive (NDJSON, for `etl events` and replays) and is handed to the target of every matching rule.
 * Targets run asynchronously, as EventBridge invokes Lambda asynchronously.
 */
export class LocalBus implements EventPublisher {
  private readonly rules: BusRule[] = [];
  private readonly listeners: ((event: EventBridgeEnvelope) => void)[] = [];
  private archive: WriteStream | undefined;

  constructor(
    private readonly options: { archiveFile?: string; account?: string; region?: string; busName: string },
  ) {}

  addRule(rule: BusRule): void {
    assertSupportedPattern(rule.pattern, `rule ${rule.name}`);
    this.rules.push(rule);
  }

  /** Observers see every event after it is archived (the CLI's progress lines use this). */
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
      this.route(envelope);
    }
  }

  private route(envelope: EventBridgeEnvelope): void {
    this.archiveEvent(envelope);
    for (const listener of this.listeners) listener(envelope);
    for (const rule of this.rules) {
      if (matchesPattern(rule.pattern, envelope)) rule.target(envelope);
    }
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
