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

/** EventBridge refuses entries over 256 KB; we fail before sending, with the detail-type in the message. */
export const MAX_EVENT_BYTES = 256 * 1024;

export class EventContractError extends Error {
  override readonly name = 'EventContractError';
  /** A producer that builds an invalid event has a bug: retrying cannot help. */
  readonly retryable = false;
}

/** Validates a detail against its schema and turns it into an entry. Throws before anything is sent. */
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
  const detail = JSON.stringify(parsed.data);
  const size = Buffer.byteLength(detail) + Buffer.byteLength(detailType) + Buffer.byteLength(EVENT_SOURCE);
  if (size > MAX_EVENT_BYTES) {
    throw new EventContractError(
      `refusing to publish ${detailType} of ${size} bytes: over EventBridge's 256 KB`,
    );
  }
  return { source: EVENT_SOURCE, detailType, detail };
}

/** The typed publish helper: validate, then send. */
export async function publishEvent<T extends DetailTypeName>(
  publisher: EventPublisher,
  detailType: T,
  detail: DetailInput<T>,
): Promise<void> {
  await publisher.publish([toOutgoingEvent(detailType, detail)]);
}
