import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DetailType,
  type DetailTypeName,
  EVENT_SOURCE,
  type OutgoingEvent,
} from '../../../../../../events/index.js';
import { EventBridgePublisher } from '../../../../../../services/adapters/aws/eventbridge/publisher.js';
import { TerminalError, TransientError } from '../../../../../../services/shared/errors.js';
import { clientConfig, recordingSleep, serviceError } from '../factories.js';

const client = new EventBridgeClient(clientConfig);
const eventBridge = mockClient(client);

function publisher(sleep = recordingSleep().sleep) {
  return new EventBridgePublisher(client, {
    busName: 'fleet-etl',
    maxAttempts: 3,
    baseDelayMs: 200,
    sleep,
    random: () => 0.5,
  });
}

function outgoing(detailType: DetailTypeName, detail: object = { n: 1 }, time?: Date): OutgoingEvent {
  return { source: EVENT_SOURCE, detailType, detail: JSON.stringify(detail), ...(time ? { time } : {}) };
}

const allAccepted = (input: { Entries: PutEventsRequestEntry[] }) => ({
  FailedEntryCount: 0,
  Entries: input.Entries.map((_, i) => ({ EventId: `event-${i}` })),
});
const sentDetails = () =>
  eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries?.map((e) => e.Detail));

beforeEach(() => {
  eventBridge.reset();
});

describe('EventBridgePublisher', () => {
  it('sends entries to the named bus in batches of 10', async () => {
    eventBridge.on(PutEventsCommand).callsFake(allAccepted);
    const time = new Date('2026-11-25T01:02:03.000Z');
    const events = Array.from({ length: 12 }, (_, i) => outgoing(DetailType.PageDownloaded, { page: i + 1 }));
    events[0] = outgoing(DetailType.PagesPlanned, { page: 0 }, time);

    await publisher().publish(events);

    const calls = eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => input.Entries?.length)).toEqual([10, 2]);
    expect(calls[0]?.Entries?.[0]).toEqual({
      EventBusName: 'fleet-etl',
      Source: 'fleet-etl',
      DetailType: 'PagesPlanned',
      Detail: '{"page":0}',
      Time: time,
    });
    expect(calls[1]?.Entries?.[1]).toEqual({
      EventBusName: 'fleet-etl',
      Source: 'fleet-etl',
      DetailType: 'PageDownloaded',
      Detail: '{"page":12}',
    });
  });

  it('keeps each request under 256 KB', async () => {
    eventBridge.on(PutEventsCommand).callsFake(allAccepted);
    const large = (n: number) => outgoing(DetailType.SqlFileExecuted, { n, pad: 'x'.repeat(100_000) });

    await publisher().publish([large(1), large(2), large(3)]);

    expect(
      eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries?.length),
    ).toEqual([2, 1]);
  });

  it('refuses an entry that alone is over 256 KB, sending nothing', async () => {
    const huge = outgoing(DetailType.EtlDone, { pad: 'x'.repeat(256 * 1024) });

    await expect(publisher().publish([huge])).rejects.toThrow(TerminalError);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('re-sends only the entries that failed, after a backoff', async () => {
    const { waits, sleep } = recordingSleep();
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [
          { EventId: 'a' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' },
          { EventId: 'c' },
        ],
      })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });

    await publisher(sleep).publish([
      outgoing(DetailType.PageDownloaded, { page: 1 }),
      outgoing(DetailType.PageDownloaded, { page: 2 }),
      outgoing(DetailType.PageDownloaded, { page: 3 }),
    ]);

    expect(sentDetails()).toEqual([['{"page":1}', '{"page":2}', '{"page":3}'], ['{"page":2}']]);
    expect(waits).toEqual([100]);
  });

  it('throws a TransientError naming detail-types and error codes when entries still fail', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 2,
      Entries: [
        { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' },
        { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
      ],
    });

    const publishing = publisher().publish([
      outgoing(DetailType.PagesPlanned),
      outgoing(DetailType.EtlFailed),
    ]);

    await expect(publishing).rejects.toThrow(TransientError);
    await expect(publishing).rejects.toThrow(
      'EventBridge PutEvents to bus fleet-etl: 2 of 2 entries still failed after 3 attempts: ' +
        'PagesPlanned (InternalFailure), EtlFailed (ThrottlingException)',
    );
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(3);
  });

  it('does not re-send an entry EventBridge calls non-retryable', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ EventId: 'a' }, { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' }],
    });

    const publishing = publisher().publish([outgoing(DetailType.PagesPlanned), outgoing(DetailType.EtlDone)]);

    await expect(publishing).rejects.toThrow(TerminalError);
    await expect(publishing).rejects.toThrow(/EtlDone \(MalformedDetail\)/);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('treats an answer that does not match the request one to one as transient', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });

    await expect(
      publisher().publish([outgoing(DetailType.PagesPlanned), outgoing(DetailType.PagesPlanned)]),
    ).rejects.toThrow(TransientError);
  });

  it('classifies errors of the whole call', async () => {
    eventBridge
      .on(PutEventsCommand)
      .rejects(serviceError('ResourceNotFoundException', 400, 'Event bus fleet-etl does not exist.'));

    const publishing = publisher().publish([outgoing(DetailType.PagesPlanned)]);

    await expect(publishing).rejects.toThrow(TerminalError);
    await expect(publishing).rejects.toThrow(/Event bus fleet-etl does not exist/);
  });
});
