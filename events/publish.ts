import * as z from 'zod';
import { type DetailTypeName, EVENT_SOURCE } from './bus.js';
import { type DetailInput, detailSchemas } from './catalog.js';

/** What a publisher sends: the PutEvents entry without the bus name, which the adapter owns. */
export interface OutgoingEvent {
  source: typeof EVENT_SOURCE;
  detailType: DetailTypeName;
  /** JSON text, as PutEvents takes it. */
  detail: string;
  time?: Date;
}

/** The port every producer publishes through; AWS (PutEvents) and local (in-process bus) adapters implement it. */
export interface EventPublisher {
  publish(events: readonly OutgoingEvent[]): Promise<void>;
}

/**
 * EventBridge takes entries of less than 256 KB (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html):
 * an entry of this many bytes or more is refused.
 * A growable detail over it is sent by reference (events/claim-check.ts); any other is refused before sending.
 */
export const MAX_EVENT_BYTES = 256 * 1024;

/** An entry's size as EventBridge counts it: source, detail-type, detail, and 14 bytes for an explicit time. */
export function entryBytes(event: OutgoingEvent): number {
  return (
    (event.time === undefined ? 0 : 14) +
    Buffer.byteLength(event.source) +
    Buffer.byteLength(event.detailType) +
    Buffer.byteLength(event.detail)
  );
}

export class EventContractError extends Error {
  override readonly name = 'EventContractError';
  /** A producer that builds an invalid event has a bug: retrying cannot help. */
  readonly retryable = false;
}

/**
 * Validates a detail against its schema and turns it into an entry. Throws before anything is sent. The size is
 * the publishing path's business (ClaimCheckPublisher sends a growable detail by reference; the adapters refuse an
 * entry over 256 KB), so a valid detail of any size becomes an entry here.
 */
export function toOutgoingEvent<T extends DetailTypeName>(
  detailType: T,
  input: DetailInput<T>,
): OutgoingEvent {
  const parsed = detailSchemas[detailType].safeParse({ ...input, schemaVersion: 1 });
  if (!parsed.success) {
    throw new EventContractError(
      `refusing to publish invalid ${detailType}: ${z.prettifyError(parsed.error)}`,
      {
        cause: parsed.error,
      },
    );
  }
  return { source: EVENT_SOURCE, detailType, detail: JSON.stringify(parsed.data) };
}

/** The typed publish helper: validate, then send. */
export async function publishEvent<T extends DetailTypeName>(
  publisher: EventPublisher,
  detailType: T,
  detail: DetailInput<T>,
): Promise<void> {
  await publisher.publish([toOutgoingEvent(detailType, detail)]);
}
