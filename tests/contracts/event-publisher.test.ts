import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { jest } from '@jest/globals';
import { ClaimCheckPublisher, DEFAULT_BUS_NAME, type EventBridgeEnvelope } from '../../events/index.js';
import { LocalBus } from '../../local/local-bus.js';
import { EventBridgePublisher } from '../../services/adapters/aws/eventbridge/publisher.js';
import { CloudTwin } from '../../twin/cloud-twin.js';
import { functionOfConstruct } from '../../twin/template/stack-model.js';
import { TWIN_REGION } from '../../twin/twin-account.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../cloud/helpers/twin-stack.js';
import { type DeliveredEvent, eventPublisherContract } from './event-publisher.contract.js';

// A case takes milliseconds; the twin's start (the stack synthesized without bundling) takes seconds.
jest.setTimeout(20_000);

/** A local bus and what its observers saw: every published event, after it is archived. */
function localBus() {
  const bus = new LocalBus({ busName: DEFAULT_BUS_NAME });
  const seen: EventBridgeEnvelope[] = [];
  bus.onEvent((envelope) => seen.push(envelope));
  const delivered = async (): Promise<DeliveredEvent[]> =>
    seen.map((e) => ({ source: e.source, detailType: e['detail-type'], detail: e.detail }));
  return { bus, delivered };
}

eventPublisherContract({
  name: 'LocalBus',
  fresh: async () => {
    const { bus, delivered } = localBus();
    return { publisher: bus, delivered, keepsOrder: true };
  },
});

eventPublisherContract({
  name: 'ClaimCheckPublisher over the LocalBus',
  fresh: async () => {
    const { bus, delivered } = localBus();
    const stored = new Map<string, string>();
    const store = { put: async (key: string, body: string) => stored.set(key, body) };
    return { publisher: new ClaimCheckPublisher(bus, store), delivered, keepsOrder: true };
  },
});

let stack: TwinStack;
let twin: CloudTwin;
let eventBridge: EventBridgeClient;
let busName: string;
eventPublisherContract({
  name: 'EventBridgePublisher over the cloud twin’s EventBridge, with the downloader’s role',
  start: async () => {
    stack = synthesizeTwinStack({ bundle: false });
    twin = await CloudTwin.start({ assemblyDir: stack.assemblyDir });
    const downloader = functionOfConstruct(twin.model, 'Services/Downloader');
    const name = downloader.environment.EVENT_BUS_NAME;
    if (name === undefined) throw new Error('the downloader has no EVENT_BUS_NAME');
    busName = name;
    eventBridge = new EventBridgeClient({
      region: TWIN_REGION,
      endpoint: twin.endpoint,
      credentials: twin.credentialsOf(downloader),
      maxAttempts: 1,
    });
  },
  stop: async () => {
    eventBridge?.destroy();
    await twin?.stop();
    discardTwinStack(stack);
  },
  fresh: async () => {
    // What PutEvents accepted onto the bus (the twin's record), from this case on.
    const from = twin.events.events.length;
    return {
      publisher: new EventBridgePublisher(eventBridge, { busName, maxAttempts: 1 }),
      delivered: async () =>
        twin.events.events
          .slice(from)
          .map((e) => ({ source: e.source, detailType: e.detailType, detail: e.detail })),
      keepsOrder: false,
    };
  },
});
