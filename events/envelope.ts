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
 * the detail-type and the offending fields so a dead-lettered event explains itself. A detail sent by reference
 * (`detailRef`, events/claim-check.ts) is refused here: `resolveFleetEvent` (the Middy middleware) resolves it.
 */
export function parseFleetEvent<T extends DetailTypeName>(
  raw: unknown,
  accepted: readonly T[],
): FleetEvent<T> {
  const { envelope, detailType } = parseFleetEnvelope(raw, accepted);
  if (typeof envelope.detail === 'object' && envelope.detail !== null && 'detailRef' in envelope.detail) {
    throw new EventValidationError(
      `${detailType} detail was sent by reference: resolve it with resolveFleetEvent (events/claim-check.ts)`,
    );
  }
  return withDetail(envelope, detailType, envelope.detail);
}

/** The envelope checks of parseFleetEvent, without the detail's. */
export function parseFleetEnvelope<T extends DetailTypeName>(
  raw: unknown,
  accepted: readonly T[],
): { envelope: EventBridgeEnvelope; detailType: T } {
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
  return { envelope: envelope.data, detailType: acceptedType };
}

/** Validates `detail` with the detail-type's schema and returns the typed event. */
export function withDetail<T extends DetailTypeName>(
  envelope: EventBridgeEnvelope,
  detailType: T,
  detail: unknown,
): FleetEvent<T> {
  const parsed = detailSchemas[detailType].safeParse(detail);
  if (!parsed.success) {
    throw new EventValidationError(`invalid ${detailType} detail: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return { ...envelope, 'detail-type': detailType, detail: parsed.data } as FleetEvent<T>;
}
