import { randomUUID } from 'node:crypto';
import type { AcceptedEntry } from '../events/bus-event.js';
import type { TwinEventBus } from '../template/stack-model.js';
import { TWIN_ACCOUNT, TWIN_PARTITION, TWIN_REGION } from '../twin-account.js';

/** An event a function put on a bus, as PutEvents accepted it. */
export type PutEvent = AcceptedEntry;

/**
 * The buses of the template, recording what is put on them and handing each accepted entry to the bus's routing
 * (events/event-router.ts) as EventBridge does once PutEvents answered.
 */
export class TwinEventLog {
  readonly #buses: readonly TwinEventBus[];
  readonly #listeners: ((event: PutEvent) => void)[] = [];
  readonly events: PutEvent[] = [];

  constructor(buses: Iterable<TwinEventBus>) {
    this.#buses = [...buses];
  }

  /** Called with every accepted entry, after it is recorded. */
  onAccepted(listener: (event: PutEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** The ARN PutEvents authorizes against: a bus of the template by name or ARN, or the account's default bus. */
  busArnOf(nameOrArn: string | undefined): string {
    const name = nameOrArn ?? 'default';
    const bus = this.#buses.find((b) => b.name === name || b.arn === name);
    return (
      bus?.arn ??
      (name.startsWith('arn:')
        ? name
        : `arn:${TWIN_PARTITION}:events:${TWIN_REGION}:${TWIN_ACCOUNT}:event-bus/${name}`)
    );
  }

  isKnown(busArn: string): boolean {
    return this.#buses.some((b) => b.arn === busArn);
  }

  record(
    busArn: string,
    entry: { Source?: unknown; DetailType?: unknown; Detail?: unknown; Resources?: unknown; Time?: unknown },
  ): string {
    const id = randomUUID();
    const detailText = typeof entry.Detail === 'string' ? entry.Detail : '{}';
    // The SDK sends Time as epoch seconds.
    const time = typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : new Date();
    const event: PutEvent = {
      id,
      busArn,
      source: String(entry.Source ?? ''),
      detailType: String(entry.DetailType ?? ''),
      detail: JSON.parse(detailText),
      time: time.toISOString(),
      resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
    };
    this.events.push(event);
    for (const listener of this.#listeners) listener(event);
    return id;
  }
}
