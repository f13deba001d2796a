import { createHash } from 'node:crypto';
import { jest } from '@jest/globals';
import middy from '@middy/core';
import {
  ClaimCheckPublisher,
  claimKey,
  type DetailOf,
  DetailType,
  EventContractError,
  EventValidationError,
  entryBytes,
  type FleetEvent,
  MAX_EVENT_BYTES,
  type OutgoingEvent,
  resolveDetailRef,
  toOutgoingEvent,
  validateFleetEvent,
} from '../../../events/index.js';
import { envelope, MemoryObjectStore, RecordingPublisher } from '../../helpers/fakes.js';
import { runId, validDetails } from '../../helpers/samples.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The sample EtlDone as a producer's input. */
function doneInput() {
  const { schemaVersion: _, ...done } = structuredClone(
    validDetails.EtlDone,
  ) as unknown as DetailOf<'EtlDone'>;
  return done;
}

/** An EtlDone whose entry is over 256 KB: 8,000 execution ids of 39 bytes in JSON. */
function oversizedEtlDone(): OutgoingEvent {
  const { schemaVersion: _, ...done } = validDetails.EtlDone;
  const ids = Array.from(
    { length: 8_000 },
    (_, i) => `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
  );
  return toOutgoingEvent(DetailType.EtlDone, {
    ...done,
    files: [...done.files],
    summary: { ...done.summary, queryExecutionIds: ids },
  });
}

function setup() {
  const inner = new RecordingPublisher();
  const store = new MemoryObjectStore();
  return { inner, store, publisher: new ClaimCheckPublisher(inner, store) };
}

describe('ClaimCheckPublisher', () => {
  it('passes an entry within the limit through untouched, storing nothing', async () => {
    // Prepare
    const { inner, store, publisher } = setup();
    const event = toOutgoingEvent(DetailType.EtlDone, doneInput());

    // Act
    await publisher.publish([event]);

    // Assess
    expect(inner.events).toEqual([{ detailType: 'EtlDone', detail: JSON.parse(event.detail) }]);
    expect(store.objects.size).toBe(0);
  });

  it('stores an oversized EtlDone whole and publishes a reference with its routing fields', async () => {
    // Prepare
    const { inner, store, publisher } = setup();
    const event = oversizedEtlDone();
    expect(entryBytes(event)).toBeGreaterThan(MAX_EVENT_BYTES);

    // Act
    await publisher.publish([event]);

    // Assess
    const key = `event-details/EtlDone/${runId}/${sha256(event.detail)}.json`;
    expect(Buffer.from(store.objects.get(key) ?? []).toString('utf8')).toBe(event.detail);
    expect(inner.events).toEqual([
      {
        detailType: 'EtlDone',
        detail: {
          schemaVersion: 1,
          runId,
          detailRef: { key, sha256: sha256(event.detail), bytes: Buffer.byteLength(event.detail) },
        },
      },
    ]);
  });

  it('sends by reference whatever is over its limit, in order with the rest', async () => {
    // Prepare: a limit lowered so that the sample SqlFileExecuted is over it and PagesPlanned is not.
    const inner = new RecordingPublisher();
    const { schemaVersion: _, ...executed } = validDetails.SqlFileExecuted;
    const { schemaVersion: __, ...planned } = validDetails.PagesPlanned;
    const events = [
      toOutgoingEvent(DetailType.PagesPlanned, planned),
      toOutgoingEvent(DetailType.SqlFileExecuted, structuredClone(executed) as never),
    ];
    const [small, large] = events.map(entryBytes) as [number, number];
    expect(large).toBeGreaterThan(small + 1);
    const publisher = new ClaimCheckPublisher(inner, new MemoryObjectStore(), { maxEntryBytes: small + 1 });

    // Act
    await publisher.publish(events);

    // Assess
    expect(inner.events.map((e) => [e.detailType, Object.keys(e.detail).includes('detailRef')])).toEqual([
      ['PagesPlanned', false],
      ['SqlFileExecuted', true],
    ]);
  });

  it('holds entries to less than the limit, as EventBridge does: one of exactly the limit goes by reference', async () => {
    // Prepare
    const event = toOutgoingEvent(DetailType.EtlDone, doneInput());
    const at = new RecordingPublisher();
    const under = new RecordingPublisher();

    // Act
    await new ClaimCheckPublisher(at, new MemoryObjectStore(), { maxEntryBytes: entryBytes(event) }).publish([
      event,
    ]);
    await new ClaimCheckPublisher(under, new MemoryObjectStore(), {
      maxEntryBytes: entryBytes(event) + 1,
    }).publish([event]);

    // Assess
    expect(at.events[0]?.detail).toHaveProperty('detailRef');
    expect(under.events[0]?.detail).toEqual(JSON.parse(event.detail));
  });

  it('refuses an oversized event of a detail-type that is never sent by reference, naming it and its size', async () => {
    // Prepare
    const { inner, store } = setup();
    const publisher = new ClaimCheckPublisher(inner, store, { maxEntryBytes: 100 });
    const { schemaVersion: _, ...failed } = validDetails.EtlFailed;

    // Act
    const publishing = publisher.publish([toOutgoingEvent(DetailType.EtlFailed, failed)]);

    // Assess
    await expect(publishing).rejects.toThrow(
      /refusing to publish EtlFailed of \d+ bytes: over EventBridge's 256 KB/,
    );
    await expect(publishing).rejects.toBeInstanceOf(EventContractError);
    expect(inner.events).toEqual([]);
    expect(store.objects.size).toBe(0);
  });

  it('derives the key from validated fields only', async () => {
    // A hand-made entry whose runId would escape the folder is refused before anything is stored.
    const { inner, store } = setup();
    const publisher = new ClaimCheckPublisher(inner, store, { maxEntryBytes: 100 });
    const hostile: OutgoingEvent = {
      ...toOutgoingEvent(DetailType.EtlDone, doneInput()),
    };
    hostile.detail = hostile.detail.replace(`"runId":"${runId}"`, '"runId":"../../raw"');

    await expect(publisher.publish([hostile])).rejects.toBeInstanceOf(EventContractError);
    expect(store.objects.size).toBe(0);
    expect(() => claimKey(DetailType.EtlDone, '../x', sha256('x'))).toThrow();
    expect(() => claimKey(DetailType.EtlDone, runId, 'not-a-hash')).toThrow();
    expect(claimKey(DetailType.SqlFileExecuted, runId, sha256('x'))).toBe(
      `event-details/SqlFileExecuted/${runId}/${sha256('x')}.json`,
    );
  });
});

/** A Middy handler that returns the event its core receives. */
function consumer(store: MemoryObjectStore | undefined) {
  return middy<FleetEvent<typeof DetailType.EtlDone>>()
    .use(validateFleetEvent([DetailType.EtlDone], store === undefined ? {} : { detailStore: store }))
    .handler(async (event) => event);
}

async function referenced() {
  const { inner, store, publisher } = setup();
  const event = oversizedEtlDone();
  await publisher.publish([event]);
  const reference = inner.events[0]?.detail as {
    runId: string;
    detailRef: { key: string; sha256: string; bytes: number };
  };
  return { store, full: JSON.parse(event.detail), reference };
}

const invoke = (handler: ReturnType<typeof consumer>, detail: unknown) =>
  handler(envelope('EtlDone', detail) as never, {} as never);

describe('validateFleetEvent with a detail sent by reference', () => {
  it('resolves the reference: the core receives the full, validated detail', async () => {
    const { store, full, reference } = await referenced();
    const event = await invoke(consumer(store), reference);
    expect(event.detail).toEqual(full);
  });

  it('leaves a detail sent whole as it is', async () => {
    const event = await invoke(consumer(new MemoryObjectStore()), validDetails.EtlDone);
    expect(event.detail).toEqual(validDetails.EtlDone);
  });

  it('refuses a reference whose hash does not match the object, naming the key', async () => {
    // Prepare: the object is replaced by another of the same size.
    const { store, reference } = await referenced();
    const body = store.objects.get(reference.detailRef.key) ?? new Uint8Array();
    store.objects.set(
      reference.detailRef.key,
      Buffer.from(Buffer.from(body).toString('utf8').replace('40_avg.sql', '41_avg.sql')),
    );

    // Act
    const handling = invoke(consumer(store), reference);

    // Assess
    await expect(handling).rejects.toBeInstanceOf(EventValidationError);
    await expect(handling).rejects.toThrow(`"${reference.detailRef.key}": the object's sha256 is`);
  });

  it('refuses a reference whose size does not match the object', async () => {
    const { store, reference } = await referenced();
    const wrong = {
      ...reference,
      detailRef: { ...reference.detailRef, bytes: reference.detailRef.bytes + 1 },
    };
    await expect(invoke(consumer(store), wrong)).rejects.toThrow(
      /the object has \d+ bytes, the reference says/,
    );
  });

  it.each([
    [
      'a parent segment',
      (key: string) => key.replace('event-details/EtlDone/', 'event-details/EtlDone/../../'),
    ],
    ['an absolute path', (key: string) => `/${key}`],
    ['another folder of the bucket', (key: string) => key.replace('event-details/EtlDone', 'results')],
    ['another detail-type', (key: string) => key.replace('/EtlDone/', '/SqlFileExecuted/')],
    ['another run', (key: string) => key.replace(runId, '2020-01-01')],
  ])('refuses a key with %s, without reading the store', async (_what, edit) => {
    // Prepare: the hostile key holds a valid detail, so only the key check stands in the way.
    const { store, reference } = await referenced();
    const key = edit(reference.detailRef.key);
    const body = store.objects.get(reference.detailRef.key) ?? new Uint8Array();
    store.objects.set(key, body);
    const read = jest.spyOn(store, 'get');

    // Act
    const handling = invoke(consumer(store), { ...reference, detailRef: { ...reference.detailRef, key } });

    // Assess
    await expect(handling).rejects.toBeInstanceOf(EventValidationError);
    // A relative key of the wrong folder is refused by name; `..` and `/` already by the key's schema.
    await expect(handling).rejects.toThrow(`EtlDone detail reference "${key}"`);
    expect(read).not.toHaveBeenCalled();
  });

  it('refuses a reference to a missing object, naming the key', async () => {
    const { reference } = await referenced();
    await expect(invoke(consumer(new MemoryObjectStore()), reference)).rejects.toThrow(
      `EtlDone detail reference "${reference.detailRef.key}" cannot be resolved: no such object`,
    );
  });

  it('refuses a reference when the consumer has no store, naming the key', async () => {
    const { reference } = await referenced();
    await expect(invoke(consumer(undefined), reference)).rejects.toThrow(
      `sent by reference (${reference.detailRef.key}), but this consumer has no store`,
    );
  });

  it('validates the resolved detail with the same schema', async () => {
    // Prepare: a stored detail that is not a valid EtlDone, referenced with its true hash and size.
    const store = new MemoryObjectStore();
    const text = JSON.stringify({ ...validDetails.EtlDone, files: ['not-sql.txt'] });
    const key = claimKey(DetailType.EtlDone, runId, sha256(text));
    await store.put(key, text);
    const reference = {
      schemaVersion: 1,
      runId,
      detailRef: { key, sha256: sha256(text), bytes: Buffer.byteLength(text) },
    };

    // Act, Assess
    await expect(invoke(consumer(store), reference)).rejects.toThrow(/invalid EtlDone detail/);
  });

  it('refuses a reference on a detail-type that is never sent by reference', async () => {
    const { store, reference } = await referenced();
    await expect(resolveDetailRef(DetailType.PageDownloaded, reference, store)).rejects.toThrow(
      'PageDownloaded is never sent by reference',
    );
  });

  it('lets errors of the store itself through, to be retried', async () => {
    const { reference } = await referenced();
    const failing = { get: async () => Promise.reject(new Error('SlowDown')) };
    await expect(resolveDetailRef(DetailType.EtlDone, reference, failing)).rejects.toThrow('SlowDown');
  });
});
