import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { DetailType } from '../../../events/index.js';
import type { DownloadTask } from '../../../services/ports/task-queue.js';
import { type RunningSimulator, startSimulator } from '../../../simulator/index.js';
import { CloudTwin } from '../../../twin/cloud-twin.js';
import { unusedGrants } from '../../../twin/iam/grant-usage.js';
import { LambdaEnvironment } from '../../../twin/lambda/lambda-runner.js';
import { QueueMapping } from '../../../twin/lambda/queue-mapping.js';
import { functionOfConstruct, roleOf, type TwinFunction } from '../../../twin/template/stack-model.js';
import { TWIN_REGION } from '../../../twin/twin-account.js';
import { runId, window } from '../../helpers/samples.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';

/** The API's client secret, put into the stack's secret as the deploy guide's first step does. */
const CLIENT_SECRET = 'twin-client-secret';

let stack: TwinStack;
let twin: CloudTwin;
let simulator: RunningSimulator;
let downloader: LambdaEnvironment;

const fnOf = (construct: string): TwinFunction => functionOfConstruct(twin.model, `Services/${construct}`);
const only = <T>(items: Iterable<T>, predicate: (item: T) => boolean): T => {
  const found = [...items].filter(predicate);
  if (found.length !== 1 || found[0] === undefined) throw new Error(`expected one, found ${found.length}`);
  return found[0];
};

beforeAll(async () => {
  stack = synthesizeTwinStack({ bundle: true });
  twin = await CloudTwin.start({ assemblyDir: stack.assemblyDir });
  const env = fnOf('Downloader').environment;
  // The simulator plays the API the template names, with the client id the template gives the function.
  simulator = await startSimulator({
    seed: 42,
    vehicles: 20,
    readingsPerVehicle: 10,
    fleetStart: '2026-11-01',
    clientId: env.FLEET_API_CLIENT_ID,
    clientSecret: CLIENT_SECRET,
  });
  twin.secrets.put(only(twin.model.secrets.values(), () => true).arn, CLIENT_SECRET);
  const apiOrigin = new URL(env.FLEET_API_BASE_URL ?? '').origin;
  downloader = new LambdaEnvironment({
    fn: fnOf('Downloader'),
    environment: twin.environmentOf(fnOf('Downloader')),
    internet: { [apiOrigin]: simulator.url, [new URL(env.FLEET_API_TOKEN_URL ?? '').origin]: simulator.url },
  });
}, 120_000);

afterAll(async () => {
  await downloader?.stop();
  await simulator?.close();
  await twin?.stop();
  discardTwinStack(stack);
});

describe('the downloader bundle on the cloud twin', () => {
  // The downloader asks S3 whether the page is stored (HeadObject) before fetching it. When its role could only
  // write the raw bucket, S3 answered 403 (not 404) for the missing key, the adapter treated 403 as terminal and
  // every page went to the dead-letter queue: this test failed with that refusal until the grant was fixed.
  it('stores one page of an SQS batch with the grants its role has, and announces it', async () => {
    const tasks = only(twin.model.queues.values(), (q) => q.logicalId.startsWith('TasksQueue'));
    const mapping = only(
      twin.model.queueMappings,
      (m) => m.functionLogicalId === fnOf('Downloader').logicalId,
    );
    const task: DownloadTask = {
      runId,
      dataset: 'vehicles',
      window,
      page: 1,
      pageSize: 50_000,
      totalPages: 1,
    };
    // The planner is the producer: its role sends the task, as in AWS.
    const planner = new SQSClient({
      region: TWIN_REGION,
      endpoint: twin.endpoint,
      credentials: twin.credentialsOf(fnOf('Planner')),
    });
    await planner.send(new SendMessageCommand({ QueueUrl: tasks.url, MessageBody: JSON.stringify(task) }));
    planner.destroy();

    const poller = new QueueMapping({
      mapping,
      queue: tasks,
      environment: downloader,
      endpoint: twin.endpoint,
      credentials: twin.credentialsOf(fnOf('Downloader')),
    });
    const batch = await poller.pollOnce();
    poller.close();

    expect({ refusals: twin.refusals, failed: batch?.failedMessageIds }).toEqual({
      refusals: [],
      failed: [],
    });
    const announced = twin.events.events.filter((e) => e.detailType === DetailType.PageDownloaded);
    expect(announced).toHaveLength(1);
    const { key } = z.object({ key: z.string() }).parse(announced[0]?.detail);
    // The query runner (a reader of the raw bucket) finds the page where the event says it is.
    const reader = new S3Client({
      region: TWIN_REGION,
      endpoint: twin.endpoint,
      credentials: twin.credentialsOf(fnOf('QueryRunner')),
    });
    const raw = only(
      twin.model.buckets.values(),
      (b) => b.name === fnOf('Downloader').environment.RAW_BUCKET,
    );
    const head = await reader.send(new HeadObjectCommand({ Bucket: raw.name, Key: key }));
    reader.destroy();
    expect(head.ContentLength).toBeGreaterThan(0);
  }, 60_000);

  it('used every grant of its role on that page but the ones for the runtime (logs, X-Ray)', () => {
    const role = roleOf(twin.model, fnOf('Downloader'));
    const unused = unusedGrants(role, twin.authorizer.allowedRequests()).map((grant) => grant.actions);
    expect(unused).toEqual([
      ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
    ]);
  });
});
