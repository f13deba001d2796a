import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { DetailType } from '../../../events/index.js';
import { DynamoDbRunLedger } from '../../../services/adapters/aws/dynamodb/run-ledger.js';
import { type RunningSimulator, startSimulator } from '../../../simulator/index.js';
import { CloudTwin } from '../../../twin/cloud-twin.js';
import { ASYNC_RETRY_DELAYS_MS } from '../../../twin/events/event-router.js';
import { LambdaEnvironment } from '../../../twin/lambda/lambda-runner.js';
import { QueueMapping } from '../../../twin/lambda/queue-mapping.js';
import { functionOfConstruct, type TwinFunction } from '../../../twin/template/stack-model.js';
import { TWIN_REGION } from '../../../twin/twin-account.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';

/**
 * A completion tracker that dies between claiming DownloadsDrained and publishing it, in AWS terms: its process is
 * killed (SIGKILL) while its PutEvents is on the wire, before EventBridge has it. Lambda retries the failed
 * invocation a minute later (the twin moves the functions' clock on instead of waiting); the retry finds the
 * claim's lease expired, takes it over and announces the run, once (decision 77).
 */
const CLIENT_SECRET = 'twin-client-secret';
const FIRED = new Date('2026-11-25T01:00:00.000Z');

let stack: TwinStack;
let twin: CloudTwin;
let simulator: RunningSimulator;
let cutter: PublishCutter | undefined;
const environments: LambdaEnvironment[] = [];

const fnOf = (construct: string): TwinFunction => functionOfConstruct(twin.model, `Services/${construct}`);

function environmentOf(fn: TwinFunction, overrides: Record<string, string> = {}): LambdaEnvironment {
  const api = [fn.environment.FLEET_API_BASE_URL, fn.environment.FLEET_API_TOKEN_URL].flatMap((url) =>
    url === undefined ? [] : [new URL(url).origin],
  );
  const environment = new LambdaEnvironment({
    fn,
    environment: { ...twin.environmentOf(fn), ...overrides },
    internet: Object.fromEntries(api.map((origin) => [origin, simulator.url])),
    clock: twin.clock,
  });
  environments.push(environment);
  return environment;
}

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface PublishCutter {
  url: string;
  /** PutEvents requests carrying DownloadsDrained that reached the cutter: the first one never went further. */
  drainedPuts: number;
  close(): Promise<void>;
}

/**
 * The path from a function to the twin's EventBridge endpoint, cut once: the first PutEvents carrying
 * DownloadsDrained kills the calling environment's process and goes nowhere; every other request is passed to
 * the front unchanged (its signature names the caller's role, as before).
 */
async function cutFirstDrainedPublish(
  front: string,
  victim: () => LambdaEnvironment,
): Promise<PublishCutter> {
  const state = { drainedPuts: 0 };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await bodyOf(request);
      if (body.includes('"DownloadsDrained"')) {
        state.drainedPuts += 1;
        if (state.drainedPuts === 1) {
          victim().kill();
          return;
        }
      }
      const headers = Object.fromEntries(
        Object.entries(request.headers).flatMap(([name, value]) =>
          typeof value === 'string' && name !== 'host' && name !== 'content-length' ? [[name, value]] : [],
        ),
      );
      const answer = await fetch(new URL(request.url ?? '/', front), {
        method: request.method ?? 'POST',
        headers,
        body: new Uint8Array(body),
      });
      response.writeHead(answer.status, Object.fromEntries(answer.headers));
      response.end(Buffer.from(await answer.arrayBuffer()));
    })().catch((error: unknown) => response.destroy(error instanceof Error ? error : undefined));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get drainedPuts() {
      return state.drainedPuts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

beforeAll(async () => {
  stack = synthesizeTwinStack({ bundle: true });
  twin = await CloudTwin.start({ assemblyDir: stack.assemblyDir });
  simulator = await startSimulator({
    seed: 11,
    vehicles: 4,
    readingsPerVehicle: 5,
    fleetStart: '2026-11-01',
    clientId: fnOf('Planner').environment.FLEET_API_CLIENT_ID,
    clientSecret: CLIENT_SECRET,
  });
  const [secret] = twin.model.secrets.values();
  if (secret === undefined) throw new Error('no secret in the template');
  twin.secrets.put(secret.arn, CLIENT_SECRET);
}, 120_000);

afterAll(async () => {
  for (const environment of environments) await environment.stop();
  await cutter?.close();
  await simulator?.close();
  await twin?.stop();
  discardTwinStack(stack);
});

const DrainedSchema = z.object({ runId: z.string() });

describe('a completion tracker killed between claiming DownloadsDrained and publishing it', () => {
  it('is retried by Lambda a minute later; the retry takes the lapsed claim over and the run is announced once', async () => {
    // Prepare: the night's pages, planned and stored.
    const planner = fnOf('Planner');
    twin.bus.attach(planner, environmentOf(planner));
    const [schedule] = twin.model.scheduledRules.filter((r) => r.targets.some((t) => t.arn === planner.arn));
    if (schedule === undefined) throw new Error('no schedule for the planner');
    twin.bus.fireSchedule(schedule.arn, FIRED);
    await twin.bus.deliverPending({ to: [planner.logicalId] });
    const downloader = fnOf('Downloader');
    const [mapping] = twin.model.queueMappings.filter((m) => m.functionLogicalId === downloader.logicalId);
    const queue = [...twin.model.queues.values()].find((q) => q.arn === mapping?.queueArn);
    if (mapping === undefined || queue === undefined) throw new Error('no tasks queue mapping');
    const poller = new QueueMapping({
      mapping,
      queue,
      environment: environmentOf(downloader),
      endpoint: twin.endpoint,
      credentials: twin.credentialsOf(downloader),
    });
    while ((await poller.pollOnce()) !== undefined);
    poller.close();
    expect(twin.events.events.filter((e) => e.detailType === DetailType.PageDownloaded)).not.toHaveLength(0);

    // One tracker environment, whose way to EventBridge is cut at its first DownloadsDrained.
    const tracker = fnOf('CompletionTracker');
    let trackerEnvironment: LambdaEnvironment | undefined;
    cutter = await cutFirstDrainedPublish(twin.endpoint, () => {
      if (trackerEnvironment === undefined) throw new Error('no tracker yet');
      return trackerEnvironment;
    });
    trackerEnvironment = environmentOf(tracker, { AWS_ENDPOINT_URL_EVENTBRIDGE: cutter.url });
    twin.bus.attach(tracker, trackerEnvironment);
    const skippedBefore = twin.clock.offsetMs;

    // Act
    const outcomes = await twin.bus.deliverPending({ to: [tracker.logicalId] });

    // Assess: the invocation that completed the run died mid-publish, and Lambda's first retry announced it.
    expect(twin.refusals).toEqual([]);
    const invoked = outcomes.filter((o) => o.kind === 'invoked');
    const retried = invoked.filter((o) => o.attempts.length > 1);
    expect(retried).toEqual([
      expect.objectContaining({
        attempts: [
          { ok: false, error: expect.objectContaining({ errorType: 'Runtime.ExitError' }) },
          { ok: true, result: 'drained' },
        ],
        failureDestination: undefined,
      }),
    ]);
    for (const outcome of invoked.filter((o) => o.attempts.length === 1))
      expect(outcome.attempts).toEqual([{ ok: true, result: 'waiting' }]);
    expect(cutter.drainedPuts).toBe(2);
    // The retry ran a minute later in the functions' time, in a fresh process.
    expect(twin.clock.offsetMs - skippedBefore).toBe(ASYNC_RETRY_DELAYS_MS[0]);
    expect(trackerEnvironment.coldStarts).toBe(2);
    expect(trackerEnvironment.logs.join('')).toContain(
      'took over a drained claim whose claimant never confirmed it',
    );
    const drained = twin.events.events
      .filter((e) => e.detailType === DetailType.DownloadsDrained)
      .map((e) => DrainedSchema.parse(e.detail));
    expect(drained).toHaveLength(1);

    // The claim is confirmed: however late, nobody takes it over again.
    const [table] = twin.model.tables.values();
    if (table === undefined || drained[0] === undefined) throw new Error('no ledger table or no run');
    const ledger = new DynamoDbRunLedger(
      new DynamoDBClient({
        region: TWIN_REGION,
        endpoint: twin.endpoint,
        credentials: twin.credentialsOf(tracker),
        maxAttempts: 1,
      }),
      { tableName: table.name, clock: { now: () => new Date(twin.clock.now().getTime() + 86_400_000) } },
    );
    await expect(
      ledger.claimDrained(drained[0].runId, { id: 'a-day-later', leaseExpiresAt: new Date(8.64e15) }),
    ).resolves.toEqual({ outcome: 'announced' });
  }, 120_000);
});
