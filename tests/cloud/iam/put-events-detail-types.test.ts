import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { DetailType, EVENT_SOURCE } from '../../../events/index.js';
import { topology } from '../../../services/topology.js';
import { CloudTwin } from '../../../twin/cloud-twin.js';
import { findingOf } from '../../../twin/night/suggested-grants.js';
import { TWIN_REGION } from '../../../twin/twin-account.js';
import { serviceFn } from '../helpers/night.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';

/**
 * Each function may put on the bus only the detail-types its topology entry publishes: the stack writes an
 * `events:detail-type` condition into its PutEvents grant, and the twin evaluates it entry by entry, as EventBridge
 * answers an entry refused for its detail-type (NotAuthorizedForDetailTypeException) while the others go through.
 */
let stack: TwinStack;
let twin: CloudTwin;

beforeAll(async () => {
  stack = synthesizeTwinStack({ bundle: true });
  twin = await CloudTwin.start({ assemblyDir: stack.assemblyDir });
}, 120_000);

afterAll(async () => {
  await twin?.stop();
  discardTwinStack(stack);
});

/** PutEvents with the role of the service's function, on its bus. */
async function putEvents(construct: string, detailTypes: readonly string[]) {
  const fn = serviceFn(twin, construct);
  const client = new EventBridgeClient({
    region: TWIN_REGION,
    endpoint: twin.endpoint,
    credentials: twin.credentialsOf(fn),
    maxAttempts: 1,
  });
  const entries: PutEventsRequestEntry[] = detailTypes.map((detailType) => ({
    EventBusName: fn.environment.EVENT_BUS_NAME ?? 'fleet-etl-dev',
    Source: EVENT_SOURCE,
    DetailType: detailType,
    Detail: JSON.stringify({ schemaVersion: 1 }),
  }));
  try {
    return await client.send(new PutEventsCommand({ Entries: entries }));
  } finally {
    client.destroy();
  }
}

describe('PutEvents on the twin, with the detail-type condition of each function’s grant', () => {
  it('accepts the detail-types the downloader declares and refuses, for that entry only, one it does not', async () => {
    // Prepare
    expect(topology.services.downloader.publishes).not.toContain(DetailType.EtlDone);
    const before = twin.events.events.length;

    // Act
    const answer = await putEvents('Downloader', [DetailType.PageDownloaded, DetailType.EtlDone]);

    // Assess
    expect(answer.FailedEntryCount).toBe(1);
    expect(answer.Entries?.[0]).toEqual({ EventId: expect.any(String) });
    expect(answer.Entries?.[1]).toEqual({
      ErrorCode: 'NotAuthorizedForDetailTypeException',
      ErrorMessage: expect.stringContaining(
        'You do not have permissions to publish events with this detail type',
      ),
    });
    expect(twin.events.events.slice(before).map((e) => e.detailType)).toEqual([DetailType.PageDownloaded]);
    const refusal = twin.refusals.at(-1);
    expect(refusal).toMatchObject({
      action: 'events:PutEvents',
      message: expect.stringContaining('EtlDone'),
    });
    // The night report does not suggest a grant: the topology entry, not the policy, says what it may send.
    if (refusal === undefined) throw new Error('no refusal');
    expect(findingOf(refusal).kind).toBe('undeclared-detail-type');
  });

  it.each(['Planner', 'Downloader', 'CompletionTracker', 'QueryRunner'] as const)(
    'lets the %s put exactly what its entry publishes',
    async (construct) => {
      const service =
        `${construct.charAt(0).toLowerCase()}${construct.slice(1)}` as keyof typeof topology.services;
      const publishes: readonly string[] = topology.services[service].publishes;

      const answer = await putEvents(construct, Object.values(DetailType));

      expect(
        (answer.Entries ?? []).flatMap((entry, index) =>
          entry.EventId === undefined ? [] : [Object.values(DetailType)[index]],
        ),
      ).toEqual(Object.values(DetailType).filter((type) => publishes.includes(type)));
    },
  );

  it('refuses the whole call, as AccessDeniedException, to a role with no PutEvents grant at all', async () => {
    await expect(putEvents('Report', [DetailType.EtlDone])).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });
});
