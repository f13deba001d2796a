import { randomUUID } from 'node:crypto';
import type { TwinEventBus } from '../template/stack-model.js';
import { TWIN_ACCOUNT, TWIN_PARTITION, TWIN_REGION } from '../twin-account.js';

/** An event a function put on a bus, as EventBridge would deliver it to a rule's target. */
export interface PutEvent {
  id: string;
  busArn: string;
  source: string;
  detailType: string;
  detail: unknown;
  time: string;
}

/**
 * The buses of the template, recording what is put on them. Routing to rules and targets is a later slice of the
 * twin (infra/twin/README.md); for now a test reads what was published.
 */
export class TwinEventLog {
  readonly #buses: readonly TwinEventBus[];
  readonly events: PutEvent[] = [];

  constructor(buses: Iterable<TwinEventBus>) {
    this.#buses = [...buses];
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

  record(busArn: string, entry: { Source?: unknown; DetailType?: unknown; Detail?: unknown }): string {
    const id = randomUUID();
    const detailText = typeof entry.Detail === 'string' ? entry.Detail : '{}';
    this.events.push({
      id,
      busArn,
      source: String(entry.Source ?? ''),
      detailType: String(entry.DetailType ?? ''),
      detail: JSON.parse(detailText),
      time: new Date().toISOString(),
    });
    return id;
  }
}
