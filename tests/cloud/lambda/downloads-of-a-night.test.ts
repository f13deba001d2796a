import * as z from 'zod';
import { DetailType } from '../../../events/index.js';
import type { CloudTwin } from '../../../twin/cloud-twin.js';
import { unusedActions, unusedGrants } from '../../../twin/iam/grant-usage.js';
import type { PolledBatch } from '../../../twin/lambda/queue-mapping.js';
import { nightReportOf } from '../../../twin/night/night-report.js';
import { TwinNight } from '../../../twin/night/twin-night.js';
import { roleOf, type TwinFunction } from '../../../twin/template/stack-model.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';

/** Small pages, so the sensors of one simulated night take several tasks and more than one batch. */
const PAGE_SIZE = 40;
const NIGHT = '2026-11-24';

let stack: TwinStack;
/**
 * The twin with the simulated fleet API behind the template's API origins, its secret filled, and execution
 * environments for every function (three for the completion tracker). The night is stepped here by hand, stage
 * by stage, to check each one; TwinNight.settle steps a whole night (tests/cloud/night).
 */
let night: TwinNight;

let twin: CloudTwin;
const fnOf = (construct: string): TwinFunction => night.functionOf(`Services/${construct}`);
const only = <T>(items: Iterable<T>, predicate: (item: T) => boolean): T => {
  const found = [...items].filter(predicate);
  if (found.length !== 1 || found[0] === undefined) throw new Error(`expected one, found ${found.length}`);
  return found[0];
};

beforeAll(async () => {
  stack = synthesizeTwinStack({ bundle: true, config: { fleetApi: { pageSize: PAGE_SIZE } } });
  night = await TwinNight.start({
    assemblyDir: stack.assemblyDir,
    fleet: { seed: 7, vehicles: 12, readingsPerVehicle: 20, fleetStart: '2026-11-01' },
    // Three at once, as Lambda scales out for the bus: trackers race on the ledger, one claims the drain.
    environmentsOf: (fn) => (fn.logicalId.startsWith('ServicesCompletionTracker') ? 3 : 1),
  });
  twin = night.twin;
}, 120_000);

afterAll(async () => {
  await night?.stop();
  discardTwinStack(stack);
});

const topologyBatchSize = () =>
  only(twin.model.queueMappings, (m) => m.functionLogicalId === fnOf('Downloader').logicalId).batchSize;

const PlannedSchema = z.object({ dataset: z.string(), totalPages: z.number() });
const DownloadedSchema = z.object({ dataset: z.string(), page: z.number(), key: z.string() });
const DrainedSchema = z.object({
  runId: z.string(),
  datasets: z.record(z.string(), z.object({ pages: z.number(), rows: z.number() })),
});

describe("a night's downloads on the cloud twin", () => {
  it('the schedule fires the planner per dataset, the tasks queue feeds the downloader until every page is stored', async () => {
    const planner = fnOf('Planner');
    const schedule = only(twin.model.scheduledRules, (r) => r.targets.some((t) => t.arn === planner.arn));
    // The night is fired at 01:00 UTC the morning after, as the schedule fires.
    expect(night.fire(NIGHT)).toEqual([
      expect.objectContaining({ rule: schedule, time: new Date('2026-11-25T01:00:00.000Z') }),
    ]);
    // EventBridge invokes the planner through its resource policy, once per target (dataset).
    expect(night.firings.map((f) => f.targets)).toEqual([2]);
    const fired = await twin.bus.deliverPending({ to: [planner.logicalId] });
    expect(fired.filter((o) => o.kind !== 'not-emulated')).toEqual(
      schedule.targets.map((t) =>
        expect.objectContaining({
          kind: 'invoked',
          targetId: t.id,
          attempts: [expect.objectContaining({ ok: true })],
        }),
      ),
    );
    const planned = twin.events.events
      .filter((e) => e.detailType === DetailType.PagesPlanned)
      .map((e) => PlannedSchema.parse(e.detail));
    expect(planned.map((p) => p.dataset).sort()).toEqual(['sensors', 'vehicles']);
    const totalPages = planned.reduce((sum, p) => sum + p.totalPages, 0);
    // More tasks than one batch holds: the mapping has to poll more than once.
    expect(totalPages).toBeGreaterThan(topologyBatchSize());

    const downloader = fnOf('Downloader');
    const { mapping, poller } = only(night.mappings, (m) => m.fn.logicalId === downloader.logicalId);
    const batches: PolledBatch[] = [];
    for (let batch = await poller.pollOnce(); batch !== undefined; batch = await poller.pollOnce())
      batches.push(batch);

    expect(twin.refusals).toEqual([]);
    expect(batches.flatMap((b) => b.failedMessageIds)).toEqual([]);
    expect(Math.max(...batches.map((b) => b.messageIds.length))).toBeLessThanOrEqual(mapping.batchSize);
    const stored = twin.events.events
      .filter((e) => e.detailType === DetailType.PageDownloaded)
      .map((e) => DownloadedSchema.parse(e.detail));
    expect(new Set(stored.map((s) => s.key)).size).toBe(totalPages);
  }, 120_000);

  it('the bus routes PagesPlanned and PageDownloaded to concurrent completion trackers, which announce DownloadsDrained once, though a page is delivered twice', async () => {
    const tracker = fnOf('CompletionTracker');
    expect(night.environmentsOf(tracker)).toHaveLength(3);
    // EventBridge delivers at least once: one PageDownloaded comes twice.
    const [duplicated] = twin.events.events.filter((e) => e.detailType === DetailType.PageDownloaded);
    if (duplicated === undefined) throw new Error('no PageDownloaded to duplicate');
    expect(await twin.bus.redeliver(duplicated.id)).toBeGreaterThan(0);

    const outcomes = await twin.bus.deliverPending({ to: [tracker.logicalId] });

    expect(twin.refusals).toEqual([]);
    const toTracker = outcomes.filter(
      (o) => o.kind === 'invoked' && o.functionLogicalId === tracker.logicalId,
    );
    const events = twin.events.events;
    const forTracker = (e: (typeof events)[number]) =>
      e.detailType === DetailType.PagesPlanned || e.detailType === DetailType.PageDownloaded;
    // Every plan and page once, the duplicate twice; each the first attempt's success.
    expect(toTracker).toHaveLength(events.filter(forTracker).length + 1);
    for (const outcome of toTracker)
      expect(outcome).toMatchObject({ attempts: [{ ok: true }], failureDestination: undefined });
    const drained = events
      .filter((e) => e.detailType === DetailType.DownloadsDrained)
      .map((e) => DrainedSchema.parse(e.detail));
    expect(drained).toHaveLength(1);
    const planned = events
      .filter((e) => e.detailType === DetailType.PagesPlanned)
      .map((e) => PlannedSchema.parse(e.detail));
    for (const plan of planned) expect(drained[0]?.datasets[plan.dataset]?.pages).toBe(plan.totalPages);
    // DownloadsDrained waits for the query runner, which this night does not reach yet.
    expect(twin.bus.pendingFor(fnOf('QueryRunner').logicalId).map((e) => e['detail-type'])).toEqual([
      DetailType.DownloadsDrained,
    ]);
  }, 120_000);

  it('archives every event put on the bus; a replay reaches no consumer that ignores replays', async () => {
    expect(twin.bus.archived.map((a) => a.event.id)).toEqual(twin.events.events.map((e) => e.id));
    const [archive] = twin.model.archives;
    if (archive === undefined) throw new Error('no archive');
    const queued = await twin.bus.replay(archive.name, { replayName: 'night-again' });
    // The tracker's and the query runner's rules exclude replays (decision on replays): only EtlDone's report
    // rule would take one, and there is no EtlDone yet.
    expect(queued).toBe(0);
  });

  it('used every grant of the planner and the downloader but the runtime ones (logs, X-Ray)', () => {
    for (const construct of ['Planner', 'Downloader']) {
      const unused = unusedGrants(roleOf(twin.model, fnOf(construct)), twin.authorizer.allowedRequests());
      expect({ construct, unused: unused.map((g) => g.actions[0]) }).toEqual({
        construct,
        unused: ['xray:PutTelemetryRecords', 'logs:CreateLogStream'],
      });
    }
  });

  it("used the completion tracker's ledger and bus grants; what it did not need is what the night did not reach", () => {
    const role = roleOf(twin.model, fnOf('CompletionTracker'));
    const allowed = twin.authorizer.allowedRequests();
    expect(unusedGrants(role, allowed).map((g) => g.actions)).toEqual([
      // The runtime's.
      ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      // The stage key, for the table (the twin does not check DynamoDB's use of it, twin/README.md) and
      // for the on-failure destination (CDK merges the two grants on the one key into one statement).
      ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      // The on-failure destination: no invocation failed.
      ['sqs:SendMessage'],
      // EtlDone's detail sent by reference: no EtlDone yet.
      ['s3:GetObject'],
    ]);
    // Of its used statements, the ledger's calls on paths the night did not take: a reset (BatchWriteItem) and
    // a page that gave up (the ConditionCheck of recordPageFailure).
    expect(
      unusedActions(role, allowed)
        .map((a) => a.action)
        .filter((action) => action.startsWith('dynamodb:')),
    ).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem']);
  });

  it("lists the actions of the planner's and the downloader's used statements that the night did not need", () => {
    const allowed = twin.authorizer.allowedRequests();
    const unusedOf = (construct: string) =>
      unusedActions(roleOf(twin.model, fnOf(construct)), allowed).map((a) => a.action);
    const runtime = [
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ];
    // Exact grants (infra/constructs/pipeline-services.ts, bucket-grants.ts): nothing but the runtime's.
    expect(unusedOf('Planner')).toEqual(runtime);
    expect(unusedOf('Downloader')).toEqual([
      ...runtime,
      // The error path of a multipart upload of a page (bucket-grants.ts).
      's3:AbortMultipartUpload',
      // CDK's SqsEventSource grants grantConsumeMessages; the mapping's own GetQueueAttributes at creation is not
      // emulated (tasks-queue.ts).
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
    ]);
  });

  it('stepped to quiet from there, the night runs its SQL on the twin’s Athena to EtlDone', async () => {
    await night.settle();
    const report = await nightReportOf(night);
    expect(report.refusals).toEqual([]);
    expect(report.events[DetailType.DownloadsDrained]).toBe(1);
    expect(report.events[DetailType.EtlDone]).toBe(1);
    expect(report.outcome).toEqual({ status: 'done', furthest: DetailType.EtlDone });
    expect(report.verdict).toEqual({ passed: true, reasons: [] });
  }, 120_000);
});
