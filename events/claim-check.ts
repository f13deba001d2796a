import { createHash } from 'node:crypto';
import * as z from 'zod';
import { DetailType, type DetailTypeName } from './bus.js';
import { detailSchemas, isDetailType } from './catalog.js';
import { ObjectKeySchema, RunIdSchema, SchemaVersion1 } from './detail/common.js';
import { EtlDoneSchema } from './detail/etl-done.js';
import { SqlFileExecutedSchema } from './detail/sql-file-executed.js';
import { EventValidationError, type FleetEvent, parseFleetEnvelope, withDetail } from './envelope.js';
import {
  EventContractError,
  type EventPublisher,
  entryBytes,
  MAX_EVENT_BYTES,
  type OutgoingEvent,
} from './publish.js';

/**
 * The claim check (docs/decisions/0060-oversized-events-go-by-reference.md). A detail whose entry would exceed
 * EventBridge's 256 KB is stored whole in the results store, and the event carries a reference to it instead:
 * the routing fields (`schemaVersion`, `runId`) and `detailRef {key, sha256, bytes}`. Consumers resolve the
 * reference before validating (validateFleetEvent), so handlers always see the full, validated detail.
 */

/** Folder of the results store (bucket) that holds the stored details, one folder per detail-type. */
export const CLAIM_CHECK_PREFIX = 'event-details';

/** The detail-types that can grow past the limit (their lists grow with the SQL folder); only these go by reference. */
export const claimCheckedDetailTypes = [DetailType.SqlFileExecuted, DetailType.EtlDone] as const;
export type ClaimCheckedDetailType = (typeof claimCheckedDetailTypes)[number];

export function isClaimChecked(detailType: string): detailType is ClaimCheckedDetailType {
  return (claimCheckedDetailTypes as readonly string[]).includes(detailType);
}

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'sha256: 64 lowercase hex digits');

const DetailRefSchema = z.object({
  /** `event-details/<detail-type>/<runId>/<sha256>.json` in the results store; nothing else is accepted. */
  key: ObjectKeySchema,
  /** SHA-256 of the stored detail's bytes (its JSON text as published), hex. */
  sha256: Sha256Schema,
  /** Length of the stored detail in bytes. */
  bytes: z.number().int().min(1),
});

/** The detail of an event sent by reference: its routing fields and where the full detail is. */
export const DetailReferenceSchema = z
  .object({
    schemaVersion: SchemaVersion1,
    runId: RunIdSchema,
    detailRef: DetailRefSchema,
  })
  .describe(
    'The detail sent by reference because it is over 256 KB: fetch detailRef.key from the results bucket, ' +
      'check bytes and sha256, and parse it with the full schema (resolveDetailRef in events/claim-check.ts).',
  );
export type DetailReference = z.infer<typeof DetailReferenceSchema>;

/**
 * What travels on the bus, per detail-type: the full detail, or for the growable ones either the full detail or
 * a reference. The published JSON Schemas describe this (events/json-schema.ts); handlers see `detailSchemas`.
 */
export const wireDetailSchemas = {
  ...detailSchemas,
  [DetailType.SqlFileExecuted]: z.union([SqlFileExecutedSchema, DetailReferenceSchema]),
  [DetailType.EtlDone]: z.union([EtlDoneSchema, DetailReferenceSchema]),
} as const satisfies Record<DetailTypeName, z.ZodType>;

/**
 * The one key a detail may be stored under, derived from validated fields only: the detail-type (one of two
 * constants), the run id (letters, digits, dashes) and the hash (hex). It cannot name anything outside the
 * detail-type's folder for that run.
 */
export function claimKey(detailType: ClaimCheckedDetailType, runId: string, sha256: string): string {
  return `${CLAIM_CHECK_PREFIX}/${detailType}/${RunIdSchema.parse(runId)}/${Sha256Schema.parse(sha256)}.json`;
}

/** Whether a detail is a reference (has `detailRef`); says nothing of its validity. */
export function isDetailReference(detail: unknown): detail is { detailRef: unknown } {
  return typeof detail === 'object' && detail !== null && Object.hasOwn(detail, 'detailRef');
}

/** Where stored details are written: the query runner's results store (an ObjectStore fits). */
export interface DetailStoreWriter {
  put(key: string, body: string, options?: { contentType?: string }): Promise<unknown>;
}

/** Where consumers read stored details from (an ObjectStore fits; `undefined` for a missing object). */
export interface DetailStoreReader {
  get(key: string): Promise<Uint8Array | undefined>;
}

export interface ClaimCheckOptions {
  /** Entries of this size or more go by reference; EventBridge's limit unless a test lowers it. */
  maxEntryBytes?: number;
}

/**
 * A publisher decorator: an entry within the limit passes untouched; a growable one over it is stored whole and
 * published as a reference; any other over it is refused (EventContractError, terminal), before anything is sent.
 */
export class ClaimCheckPublisher implements EventPublisher {
  readonly #inner: EventPublisher;
  readonly #store: DetailStoreWriter;
  readonly #maxEntryBytes: number;

  constructor(inner: EventPublisher, store: DetailStoreWriter, options: ClaimCheckOptions = {}) {
    this.#inner = inner;
    this.#store = store;
    this.#maxEntryBytes = options.maxEntryBytes ?? MAX_EVENT_BYTES;
  }

  async publish(events: readonly OutgoingEvent[]): Promise<void> {
    const entries: OutgoingEvent[] = [];
    for (const event of events) entries.push(await this.#withinLimit(event));
    await this.#inner.publish(entries);
  }

  async #withinLimit(event: OutgoingEvent): Promise<OutgoingEvent> {
    const size = entryBytes(event);
    if (size < this.#maxEntryBytes) return event;
    const { detailType } = event;
    if (!isClaimChecked(detailType)) {
      throw new EventContractError(
        `refusing to publish ${detailType} of ${size} bytes: over EventBridge's 256 KB, and ${detailType} is ` +
          'not one of the detail-types sent by reference',
      );
    }
    // The key comes from validated fields only, never from the raw text.
    const parsed = detailSchemas[detailType].safeParse(JSON.parse(event.detail));
    if (!parsed.success) {
      throw new EventContractError(
        `refusing to store an invalid ${detailType} by reference: ${z.prettifyError(parsed.error)}`,
        { cause: parsed.error },
      );
    }
    const body = Buffer.from(event.detail);
    const sha256 = createHash('sha256').update(body).digest('hex');
    const key = claimKey(detailType, parsed.data.runId, sha256);
    // Stored before the reference is published: a consumer never receives a reference to nothing.
    await this.#store.put(key, event.detail, { contentType: 'application/json' });
    const reference: DetailReference = {
      schemaVersion: 1,
      runId: parsed.data.runId,
      detailRef: { key, sha256, bytes: body.byteLength },
    };
    return { ...event, detail: JSON.stringify(DetailReferenceSchema.parse(reference)) };
  }
}

/**
 * Resolves a detail sent by reference into the full detail (not yet validated: parse it with the detail-type's
 * schema, as resolveFleetEvent does). A detail without `detailRef` is returned as it is. Exported for consumers
 * outside this repository too (docs/consumers.md). Every way a reference can be wrong is an EventValidationError
 * naming the key: a malformed reference, a key other than the one derived from the detail-type, run id and hash
 * (so a hostile reference cannot read elsewhere in the bucket), a missing object, a size or hash mismatch, a
 * stored detail of another run. Errors of the store itself (S3 throttling) pass through, to be retried.
 */
export async function resolveDetailRef(
  detailType: string,
  detail: unknown,
  store: DetailStoreReader | undefined,
): Promise<unknown> {
  if (!isDetailReference(detail)) return detail;
  if (!isDetailType(detailType) || !isClaimChecked(detailType)) {
    throw new EventValidationError(`${detailType} is never sent by reference, but this one has a detailRef`);
  }
  const parsed = DetailReferenceSchema.safeParse(detail);
  if (!parsed.success) {
    const key = (detail.detailRef as { key?: unknown } | null)?.key;
    throw new EventValidationError(
      `invalid ${detailType} detail reference${typeof key === 'string' ? ` "${key}"` : ''}: ${z.prettifyError(parsed.error)}`,
      { cause: parsed.error },
    );
  }
  const { runId, detailRef } = parsed.data;
  const { key } = detailRef;
  const expected = claimKey(detailType, runId, detailRef.sha256);
  if (key !== expected) {
    throw new EventValidationError(
      `refusing ${detailType} detail reference "${key}": the only key a ${detailType} of run ${runId} with ` +
        `that hash may name is "${expected}"`,
    );
  }
  if (store === undefined) {
    throw new EventValidationError(
      `${detailType} of run ${runId} was sent by reference (${key}), but this consumer has no store to read it`,
    );
  }
  const body = await store.get(key);
  if (body === undefined) {
    throw new EventValidationError(
      `${detailType} detail reference "${key}" cannot be resolved: no such object`,
    );
  }
  if (body.byteLength !== detailRef.bytes) {
    throw new EventValidationError(
      `${detailType} detail reference "${key}": the object has ${body.byteLength} bytes, the reference says ${detailRef.bytes}`,
    );
  }
  const sha256 = createHash('sha256').update(body).digest('hex');
  if (sha256 !== detailRef.sha256) {
    throw new EventValidationError(
      `${detailType} detail reference "${key}": the object's sha256 is ${sha256}, not the reference's`,
    );
  }
  let stored: unknown;
  try {
    stored = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (error) {
    throw new EventValidationError(`${detailType} detail reference "${key}" is not JSON`, { cause: error });
  }
  if (typeof stored !== 'object' || stored === null || (stored as { runId?: unknown }).runId !== runId) {
    throw new EventValidationError(
      `${detailType} detail reference "${key}" holds the detail of another run than ${runId}`,
    );
  }
  return stored;
}

/** parseFleetEvent for an event that may carry its detail by reference: resolve, then validate the full detail. */
export async function resolveFleetEvent<T extends DetailTypeName>(
  raw: unknown,
  accepted: readonly T[],
  store: DetailStoreReader | undefined,
): Promise<FleetEvent<T>> {
  const { envelope, detailType } = parseFleetEnvelope(raw, accepted);
  const detail = await resolveDetailRef(detailType, envelope.detail, store);
  return withDetail(envelope, detailType, detail);
}
