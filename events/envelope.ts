import * as z from 'zod';
import { type DetailTypeName, EVENT_SOURCE } from './bus.js';
import { type DetailOf, detailSchemas } from './catalog.js';

/**
 * The EventBridge envelope as Lambda receives it. `replay-name` is present only on events re-sent by an
 * archive replay (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-replay-archived-event.html).
 */
export const EventBridgeEnvelopeSchema = z.object({
  version: z.string(),
  id: z.string().min(1),
  'detail-type': z.string().min(1),
  source: z.string().min(1),
  account: z.string(),
  time: z.iso.datetime(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.unknown(),
  'replay-name': z.string().optional(),
});
export type EventBridgeEnvelope = z.infer<typeof EventBridgeEnvelopeSchema>;

/** An envelope whose detail has been validated against its detail-type's schema. */
export type FleetEvent<T extends DetailTypeName = DetailTypeName> = {
  [K in T]: Omit<EventBridgeEnvelope, 'detail-type' | 'detail'> & { 'detail-type': K; detail: DetailOf<K> };
}[T];

export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
  /** A malformed event stays malformed: retrying cannot help. */
  readonly retryable = false;
}

/**
 * Parses an envelope and its detail, accepting only the listed detail-types from our source. The message names
 * the detail-type and the offending fields so a dead-lettered event explains itself.
 */
export function parseFleetEvent<T extends DetailTypeName>(
  raw: unknown,
  accepted: readonly T[],
): FleetEvent<T> {
  const envelope = EventBridgeEnvelopeSchema.safeParse(raw);
  if (!envelope.success) {
    throw new EventValidationError(`not an EventBridge event: ${z.prettifyError(envelope.error)}`, {
      cause: envelope.error,
    });
  }
  const { source, 'detail-type': detailType } = envelope.data;
  if (source !== EVENT_SOURCE) {
    throw new EventValidationError(`unexpected event source "${source}", expected "${EVENT_SOURCE}"`);
  }
  const acceptedType = accepted.find((t) => t === detailType);
  if (acceptedType === undefined) {
    throw new EventValidationError(
      `unexpected detail-type "${detailType}", expected one of: ${accepted.join(', ')}`,
    );
  }
  const detail = detailSchemas[acceptedType].safeParse(envelope.data.detail);
  if (!detail.success) {
    throw new EventValidationError(`invalid ${detailType} detail: ${z.prettifyError(detail.error)}`, {
      cause: detail.error,
    });
  }
  return { ...envelope.data, 'detail-type': acceptedType, detail: detail.data } as FleetEvent<T>;
}
