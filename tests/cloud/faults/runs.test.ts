import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type DateWindow, DetailType, publishEvent } from '../../../events/index.js';
import { EventBridgePublisher } from '../../../services/adapters/aws/eventbridge/publisher.js';
import type { DownloadTask } from '../../../services/ports/task-queue.js';
import { runIdFor } from '../../../services/shared/run-identity.js';
import { DATASETS } from '../../../services/topology.js';
import { TWIN_REGION } from '../../../twin/twin-account.js';
import { filesUnder, sameAnswer } from '../../faults/invariants.js';
import { SuiteRecorder } from '../../faults/scenario.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';
import {
  answerOfEtlDone,
  checkTwinNight,
  FIRED,
  type TwinNight as Night,
  PAGE_SIZE,
  runTwinScenario,
  summariseTwinGroup,
  TwinNight,
  type TwinScenario,
} from './twin-night.js';

/**
 * Whole runs that come back on the cloud twin: a replay of the bus's archive after a finished night, a backfill
 * whose INSERT into sensor_data writes more than Athena's 100 partitions, and a finished night fired again.
 */
let stack: TwinStack;
const recorder = new SuiteRecorder();

beforeAll(() => {
  stack = synthesizeTwinStack({ bundle: true, config: { fleetApi: { pageSize: PAGE_SIZE } } });
}, 120_000);

afterAll(() => {
  summariseTwinGroup('cloud runs', recorder);
  discardTwinStack(stack);
});

const start = (options: Omit<Parameters<typeof TwinNight.start>[0], 'assemblyDir'> = {}) =>
  TwinNight.start({ assemblyDir: stack.assemblyDir, ...options });

/** Every object of the twin's buckets, key and bytes, to tell whether anything changed. */
async function contents(night: Night, name: string): Promise<Map<string, string>> {
  const { root } = await night.snapshot(name);
  return new Map(
    filesUnder(root).map((file) => [file, readFileSync(path.join(root, file)).toString('base64')]),
  );
}

function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((key) => before.get(key) !== after.get(key));
}

/** Athena's limit on the partitions one CTAS or INSERT INTO writes (the twin enforces it). */
const ATHENA_PARTITIONS_PER_WRITE = 100;

/** A backfill of 30 days: 150 day × vehicle-type partitions in sensor_data, over Athena's 100 per write. */
const BACKFILL: DateWindow = {
  from: '2026-10-26T00:00:00.000Z',
  to: '2026-11-25T00:00:00.000Z',
  timeZone: 'UTC',
};
const BACKFILL_FLEET = { seed: 7, vehicles: 8, readingsPerVehicle: 3, fleetStart: '2026-10-26' } as const;
const BACKFILL_PAGE_SIZE = 200;

/**
 * The planner's part of a backfill, played with the planner's role: its tasks on the tasks queue, then
 * PagesPlanned. (The planner derives a one-day window from the schedule's time, so no schedule plans 30 days.)
 */
async function planBackfill(night: Night): Promise<void> {
  const planner = night.fn('Planner');
  const credentials = night.twin.credentialsOf(planner);
  const runId = runIdFor(BACKFILL);
  const world = night.world(BACKFILL);
  const sqs = new SQSClient({ region: TWIN_REGION, endpoint: night.twin.endpoint, credentials });
  const events = new EventBridgeClient({ region: TWIN_REGION, endpoint: night.twin.endpoint, credentials });
  try {
    for (const dataset of DATASETS) {
      const rows = dataset === 'vehicles' ? world.vehicles.length : world.sensors.length;
      const totalPages = Math.ceil(rows / BACKFILL_PAGE_SIZE);
      const tasks: DownloadTask[] = Array.from({ length: totalPages }, (_, i) => ({
        runId,
        dataset,
        window: BACKFILL,
        page: i + 1,
        pageSize: BACKFILL_PAGE_SIZE,
        totalPages,
      }));
      for (let at = 0; at < tasks.length; at += 10) {
        await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: night.tasksQueue.url,
            Entries: tasks
              .slice(at, at + 10)
              .map((task, i) => ({ Id: String(i), MessageBody: JSON.stringify(task) })),
          }),
        );
      }
      const busName = planner.environment.EVENT_BUS_NAME ?? '';
      await publishEvent(new EventBridgePublisher(events, { busName }), DetailType.PagesPlanned, {
        runId,
        dataset,
        window: BACKFILL,
        totalPages,
        pageSize: BACKFILL_PAGE_SIZE,
        plannedAt: FIRED.toISOString(),
      });
    }
  } finally {
    sqs.destroy();
    events.destroy();
  }
}

const scenarios: TwinScenario[] = [
  {
    name: 'a replay of the archive',
    injected: 'every archived event of a finished night replayed to every rule (twin.bus.replay)',
    async run() {
      const night = await start();
      await night.fireSchedule();
      await night.settle();
      const before = await contents(night, 'before-replay');
      const published = night.twin.events.events.length;
      const [archive] = night.twin.model.archives;
      if (archive === undefined) throw new Error('no archive in the template');
      const replayed = night.twin.bus.archived.filter((a) => a.archiveName === archive.name).length;
      const queued = await night.twin.bus.replay(archive.name, { replayName: 'twin-faults' });
      const outcomes = await night.twin.bus.deliverPending();
      await night.settle();
      const extra: string[] = [];
      // What the template says: the tracker's and the query runner's rules match live events only
      // ("replay-name" absent, decision 40); the report's rule takes the replayed EtlDone.
      const report = night.fn('Report').logicalId;
      const reached = outcomes.map((o) => (o.kind === 'invoked' ? o.functionLogicalId : o.kind));
      if (reached.length !== 1 || reached[0] !== report)
        extra.push(`the replay reached ${JSON.stringify(reached)}, not the report alone`);
      if (queued !== reached.length) extra.push(`${queued} deliveries queued for ${reached.length} made`);
      if (night.twin.events.events.length !== published)
        extra.push(`${night.twin.events.events.length - published} event(s) published by the replay`);
      const changed = changes(before, await contents(night, 'after-replay'));
      if (changed.length > 0) extra.push(`objects changed by the replay: ${changed.join(', ')}`);
      const check = await checkTwinNight(night, { outcome: { kind: 'answer' } });
      check.checked.push(`${replayed} events replayed, lake, tables and report unchanged`);
      return { night, faults: replayed, check, extra };
    },
  },
  {
    name: 'a backfill over 100 partitions',
    injected: `a run of 30 days (${BACKFILL.from.slice(0, 10)} to ${BACKFILL.to.slice(0, 10)}): its sensor_data INSERT writes over ${ATHENA_PARTITIONS_PER_WRITE} partitions`,
    async run() {
      const night = await start({ fleet: BACKFILL_FLEET });
      await planBackfill(night);
      await night.settle();
      const tooMany = night.twin.athena.executions.filter(
        (e) => e.state === 'FAILED' && /HIVE_TOO_MANY_OPEN_PARTITIONS/.test(JSON.stringify(e)),
      );
      const check = await checkTwinNight(night, {
        outcome: { kind: 'answer' },
        window: BACKFILL,
        pageSize: BACKFILL_PAGE_SIZE,
      });
      const extra: string[] = [];
      // The scenario's premise: the run's readings fall into more partitions than one write may open.
      const world = night.world(BACKFILL);
      const types = new Map(world.vehicles.map((v) => [v.vehicle_id, v.vehicle_type]));
      const partitions = new Set(
        world.sensors
          .filter((r) => types.has(r.vehicle_id))
          .map((r) => `${Math.floor(r.timestamp / 86_400_000)}/${types.get(r.vehicle_id)}`),
      ).size;
      if (partitions <= ATHENA_PARTITIONS_PER_WRITE) extra.push(`only ${partitions} partitions`);
      else check.checked.push(`${partitions} partitions written in batches`);
      return { night, faults: tooMany.length, check, extra };
    },
  },
  {
    name: 'a finished night fired again',
    injected: 'the schedule fired a second time for the same night after its EtlDone',
    async run() {
      const night = await start();
      await night.fireSchedule();
      await night.settle();
      const [firstDone] = night.published(DetailType.EtlDone);
      if (firstDone === undefined) throw new Error('the first night did not finish');
      const firstAnswer = await answerOfEtlDone(night, firstDone);
      const plans = night.published(DetailType.PagesPlanned).length;
      await night.fireSchedule();
      await night.settle();
      const extra: string[] = [];
      const replans = night.published(DetailType.PagesPlanned).length - plans;
      if (replans !== DATASETS.length) extra.push(`the second firing planned ${replans} dataset(s)`);
      const check = await checkTwinNight(night, { outcome: { kind: 'answer' } });
      const answers = await Promise.all(
        night.published(DetailType.EtlDone).map((e) => answerOfEtlDone(night, e)),
      );
      if (!answers.every((a) => sameAnswer(a, firstAnswer))) extra.push('the answer changed');
      return { night, faults: 1, check, extra };
    },
  },
];

describe('runs that come back, on the cloud twin', () => {
  it.each(scenarios.map((s) => [s.name, s] as const))(
    '%s',
    async (_name, scenario) => {
      const result = await runTwinScenario(recorder, scenario);
      expect(result.violations).toEqual([]);
    },
    180_000,
  );
});
