import {
  DetailType,
  EVENT_SOURCE,
  type EventPublisher,
  entryBytes,
  MAX_EVENT_BYTES,
  type OutgoingEvent,
  toOutgoingEvent,
} from '../../events/index.js';
import { isRetryable } from '../../services/shared/errors.js';
import { runId, validDetails } from '../helpers/samples.js';
import { type AdapterFixture, describeContract } from './adapter-fixture.js';

/** An event as it reached the bus: what a rule matches on and a target receives. */
export interface DeliveredEvent {
  source: string;
  detailType: string;
  /** Parsed, as the envelope carries it. */
  detail: unknown;
}

export interface EventPublisherUnderTest {
  publisher: EventPublisher;
  /** What reached the bus since `fresh`, in the order the bus took it. */
  delivered(): Promise<DeliveredEvent[]>;
  /**
   * Whether the events of one call reach the bus in the call's order. The local bus hands them on in a loop;
   * EventBridge promises no order, and the publisher sends an entry PutEvents failed again after the others.
   */
  keepsOrder: boolean;
}

/** Page `page` of the sensors announced, as the downloader publishes it. */
const pageDownloaded = (page: number): OutgoingEvent =>
  toOutgoingEvent(DetailType.PageDownloaded, {
    ...validDetails.PageDownloaded,
    page,
    key: `sensors/run=${runId}/page-${String(page).padStart(5, '0')}.ndjson`,
  });

const failed = (): OutgoingEvent => toOutgoingEvent(DetailType.EtlFailed, { ...validDetails.EtlFailed });

/**
 * An entry of exactly `bytes` bytes as EventBridge counts it. The publisher takes the detail as text; the padding
 * field stands for whatever made a producer's detail grow (no schema of ours lets a valid one reach the limit).
 */
function entryOf(bytes: number): OutgoingEvent {
  const base = {
    source: EVENT_SOURCE,
    detailType: DetailType.PageDownloaded,
    detail: JSON.stringify({ ...validDetails.PageDownloaded }),
  };
  const padding = bytes - entryBytes({ ...base, detail: base.detail.replace(/}$/, ',"padding":""}') });
  const event = {
    ...base,
    detail: JSON.stringify({ ...validDetails.PageDownloaded, padding: 'x'.repeat(padding) }),
  };
  if (entryBytes(event) !== bytes)
    throw new Error(`built an entry of ${entryBytes(event)} bytes, not ${bytes}`);
  return event;
}

const asDelivered = (event: OutgoingEvent): DeliveredEvent => ({
  source: event.source,
  detailType: event.detailType,
  detail: JSON.parse(event.detail),
});

const inOneOrder = (a: DeliveredEvent, b: DeliveredEvent) =>
  a.detailType.localeCompare(b.detailType) ||
  JSON.stringify(a.detail).localeCompare(JSON.stringify(b.detail));

/**
 * What a producer may rely on, whichever bus it publishes to: every event of a call delivered once and as sent,
 * a call of any length, and an entry EventBridge would refuse refused before any of its call is sent
 * (docs/decisions/0096).
 */
export function eventPublisherContract(fixture: AdapterFixture<EventPublisherUnderTest>): void {
  describeContract('EventPublisher', fixture, (fresh) => {
    it('delivers every event of a call once, with its source, detail-type and detail as published', async () => {
      const { publisher, delivered } = await fresh();
      const events = [pageDownloaded(1), failed(), pageDownloaded(2)];

      await publisher.publish(events);

      expect((await delivered()).sort(inOneOrder)).toEqual(events.map(asDelivered).sort(inOneOrder));
    });

    it('sends nothing for an empty call', async () => {
      const { publisher, delivered } = await fresh();
      await publisher.publish([]);
      expect(await delivered()).toEqual([]);
    });

    it('delivers a call of more than ten entries (PutEvents’ limit) whole', async () => {
      const { publisher, delivered, keepsOrder } = await fresh();
      const events = Array.from({ length: 23 }, (_, i) => pageDownloaded(i + 1));

      await publisher.publish(events);

      const arrived = await delivered();
      expect([...arrived].sort(inOneOrder)).toEqual(events.map(asDelivered).sort(inOneOrder));
      if (keepsOrder) expect(arrived).toEqual(events.map(asDelivered));
    });

    it('delivers an entry of 256 KB less one byte, the largest EventBridge takes', async () => {
      const { publisher, delivered } = await fresh();
      const largest = entryOf(MAX_EVENT_BYTES - 1);

      await publisher.publish([largest]);

      expect(await delivered()).toEqual([asDelivered(largest)]);
    });

    it.each([
      ['of exactly 256 KB', 0],
      ['over 256 KB', 1_000],
    ])('refuses a call with an entry %s, naming it, before any of the call is sent', async (_, over) => {
      const { publisher, delivered } = await fresh();
      const bytes = MAX_EVENT_BYTES + over;
      // Twelve entries first: a publisher that sent batch by batch would have sent ten of them.
      const events = [...Array.from({ length: 12 }, (_, i) => pageDownloaded(i + 1)), entryOf(bytes)];

      const error: unknown = await publisher.publish(events).then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(error).toBeInstanceOf(Error);
      expect(isRetryable(error)).toBe(false);
      expect(String(error)).toMatch(new RegExp(`PageDownloaded\\b.*\\b${bytes} bytes`));
      expect(await delivered()).toEqual([]);
    });
  });
}
