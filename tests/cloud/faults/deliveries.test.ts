import { SQSClient } from '@aws-sdk/client-sqs';
import { DetailType } from '../../../events/index.js';
import { SqsDeadLetters } from '../../../services/adapters/aws/sqs/dead-letters.js';
import { TWIN_REGION } from '../../../twin/twin-account.js';
import { SuiteRecorder } from '../../faults/scenario.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';
import {
  checkTwinNight,
  PAGE_SIZE,
  runTwinScenario,
  summariseTwinGroup,
  TwinNight,
  type TwinScenario,
  until,
} from './twin-night.js';

/**
 * Deliveries that go wrong in AWS, each in a whole night on the cloud twin (the synthesized stack's bundles, IAM
 * enforced), checked with the local fault suite's invariants: SQS redelivering a task while its first handler still
 * runs, a batch half failed, every EventBridge event delivered twice, a downloader killed mid-batch, and a page that
 * dead-letters and is redriven once the API is healed.
 */
let stack: TwinStack;
const recorder = new SuiteRecorder();

beforeAll(() => {
  stack = synthesizeTwinStack({ bundle: true, config: { fleetApi: { pageSize: PAGE_SIZE } } });
}, 120_000);

afterAll(() => {
  summariseTwinGroup('cloud deliveries', recorder);
  discardTwinStack(stack);
});

const start = (options: Omit<Parameters<typeof TwinNight.start>[0], 'assemblyDir'> = {}) =>
  TwinNight.start({ assemblyDir: stack.assemblyDir, ...options });

const scenarios: TwinScenario[] = [
  {
    name: 'tasks redelivered while their first handler runs',
    injected:
      'the visibility timeout of a batch in flight passes (SQS at-least-once); a second downloader receives it',
    async run() {
      // Each API answer takes 150 ms, so the first downloader is still at its batch when the second receives it.
      const night = await start({ downloaders: 2, faults: { latencyMs: 150 } });
      await night.fireSchedule();
      const [first, second] = night.pollers;
      if (first === undefined || second === undefined) throw new Error('two downloaders expected');
      let firstSettled = false;
      const firstBatch = first.pollOnce().finally(() => {
        firstSettled = true;
      });
      await until(async () => (await night.twin.queues.depth(night.tasksQueue.arn)).inFlight > 0);
      await night.twin.passVisibilityTimeout(night.tasksQueue.arn);
      const stillRunning = !firstSettled;
      const secondBatch = await second.pollOnce();
      const firstDone = await firstBatch;
      const again = (secondBatch?.messageIds ?? []).filter((id) => firstDone?.messageIds.includes(id));
      await night.settle();
      const check = await checkTwinNight(night, { outcome: { kind: 'answer' } });
      const extra = stillRunning ? [] : ['the first handler had finished before the redelivery'];
      return { night, faults: again.length, check, extra };
    },
  },
  {
    name: 'a batch half failed',
    injected: 'sensors page 2 answers 400 in a batch of five; the API healed before the task returns',
    async run() {
      const night = await start({ faults: { failPages: [{ dataset: 'sensors', page: 2 }] } });
      await night.fireSchedule();
      const [poller] = night.pollers;
      const batch = await poller?.pollOnce();
      const failed = batch?.failedMessageIds.length ?? 0;
      const extra =
        batch !== undefined && failed === 1 && batch.messageIds.length > 1
          ? []
          : [
              `the first batch reported ${failed} of ${batch?.messageIds.length ?? 0} failed, not one of several`,
            ];
      await night.healApi();
      await night.drainQueue();
      // The failed task alone is in flight: its visibility timeout passes and it is received again.
      const returned = await night.twin.passVisibilityTimeout(night.tasksQueue.arn);
      if (returned !== failed) extra.push(`${returned} task(s) came back for ${failed} failed`);
      await night.settle();
      const check = await checkTwinNight(night, { outcome: { kind: 'answer' } });
      return { night, faults: failed, check, extra };
    },
  },
  {
    name: 'every event delivered twice',
    injected: 'EventBridge delivers each event of every detail-type a second time (twin.bus.redeliver)',
    async run() {
      const night = await start();
      await night.fireSchedule();
      const redelivered = new Set<string>();
      const types = new Set<string>();
      await night.settle(async () => {
        for (const event of night.twin.events.events) {
          if (redelivered.has(event.id)) continue;
          redelivered.add(event.id);
          types.add(event.detailType);
          await night.twin.bus.redeliver(event.id);
        }
      });
      const check = await checkTwinNight(night, { outcome: { kind: 'answer' } });
      const everyType = [
        DetailType.PagesPlanned,
        DetailType.PageDownloaded,
        DetailType.DownloadsDrained,
        DetailType.SqlFileExecuted,
        DetailType.EtlDone,
      ];
      const missing = everyType.filter((t) => !types.has(t));
      const extra = missing.length === 0 ? [] : [`never redelivered: ${missing.join(', ')}`];
      return { night, faults: redelivered.size, check, extra };
    },
  },
  {
    name: 'a downloader killed mid-batch',
    injected: 'the downloader’s process killed (SIGKILL) while its batch fetches pages',
    async run() {
      const night = await start({ faults: { latencyMs: 200 } });
      await night.fireSchedule();
      const [poller] = night.pollers;
      // The downloader's environment is the last one started.
      const environment = night.environments.at(-1);
      if (poller === undefined || environment === undefined) throw new Error('no downloader');
      const pageRequests = () => {
        const { requests } = night.simulator.stats();
        return requests.vehicles + requests.sensors;
      };
      const planned = pageRequests();
      const polled = poller.pollOnce();
      // Killed once its first page request reached the API, before the answer (200 ms late) is stored.
      await until(() => pageRequests() > planned);
      environment.kill();
      const batch = await polled;
      const extra: string[] = [];
      if (batch?.invocation.ok !== false || batch.invocation.error.errorType !== 'Runtime.ExitError')
        extra.push(`the killed invocation ended ${JSON.stringify(batch?.invocation)}`);
      const returned = await night.twin.passVisibilityTimeout(night.tasksQueue.arn);
      if (returned !== batch?.messageIds.length)
        extra.push(`${returned} task(s) came back for a batch of ${batch?.messageIds.length}`);
      await night.settle();
      const check = await checkTwinNight(night, { outcome: { kind: 'answer' } });
      return { night, faults: 1, check, extra };
    },
  },
  {
    name: 'a page dead-lettered, then redriven',
    injected:
      'sensors page 3 answers 400 on every receive until the dead-letter queue; redriven by the operator once healed',
    async run() {
      const failure = /sensors page 3: .*400/;
      const night = await start({ faults: { failPages: [{ dataset: 'sensors', page: 3 }] } });
      await night.fireSchedule();
      await night.settle();
      let receives = 1;
      while ((await night.twin.queues.depth(night.deadLetterQueue.arn)).visible === 0 && receives < 10) {
        await night.twin.passVisibilityTimeout(night.tasksQueue.arn);
        await night.settle();
        receives += 1;
      }
      const gaveUp = await checkTwinNight(night, {
        outcome: { kind: 'failure', failure },
        deadLetters: 1,
      });
      const extra = gaveUp.violations.map((v) => `before the redrive: ${v}`);
      if (receives !== 6) extra.push(`dead-lettered on receive ${receives}, not after maxReceiveCount (5)`);

      await night.healApi();
      const sqs = new SQSClient({
        region: TWIN_REGION,
        endpoint: night.twin.endpoint,
        credentials: night.twin.operatorCredentials(),
      });
      const moved = await new SqsDeadLetters(sqs, {
        deadLetterQueueUrl: night.deadLetterQueue.url,
        sourceQueueUrl: night.tasksQueue.url,
      }).redrive();
      sqs.destroy();
      if (moved !== 1) extra.push(`the redrive moved ${moved} task(s)`);
      await night.settle();
      const check = await checkTwinNight(night, { outcome: { kind: 'answer' }, earlierFailure: failure });
      check.checked.unshift(`${gaveUp.checked.join(', ')}; after the redrive:`);
      return { night, faults: receives - 1, check, extra };
    },
  },
];

describe('deliveries that go wrong in AWS, on the cloud twin', () => {
  it.each(scenarios.map((s) => [s.name, s] as const))(
    '%s',
    async (_name, scenario) => {
      const result = await runTwinScenario(recorder, scenario);
      expect(result.violations).toEqual([]);
    },
    180_000,
  );
});
