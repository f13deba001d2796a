import { readdirSync, rmSync } from 'node:fs';
import * as z from 'zod';
import { DetailType } from '../../../events/index.js';
import { FunctionInitError } from '../../../twin/lambda/lambda-runner.js';
import { type NightReport, nightReportOf } from '../../../twin/night/night-report.js';
import { NightDidNotSettleError, TwinNight } from '../../../twin/night/twin-night.js';
import { editedAssembly, withoutAction, withStatement, withVariable } from '../helpers/edited-assembly.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';

/** Small pages of a small fleet: several tasks, several batches, a night in seconds. */
const PAGE_SIZE = 40;
const NIGHT = '2026-11-24';
const FLEET = { seed: 7, vehicles: 12, readingsPerVehicle: 20, fleetStart: '2026-11-01' };
const DOWNLOADER_ROLE = 'ServicesDownloaderRole';

let stack: TwinStack;
const copies: string[] = [];

beforeAll(() => {
  stack = synthesizeTwinStack({ bundle: true, config: { fleetApi: { pageSize: PAGE_SIZE } } });
}, 120_000);

afterAll(() => {
  for (const copy of copies) rmSync(copy, { recursive: true, force: true });
  discardTwinStack(stack);
});

const PlannedSchema = z.object({ dataset: z.string(), totalPages: z.number() });

/** One whole night of an assembly, driven to quiet: its report and the pages the planners planned. */
async function nightOf(
  assemblyDir: string,
): Promise<{ report: NightReport; totalPages: number; night: TwinNight }> {
  const night = await TwinNight.start({ assemblyDir, fleet: FLEET });
  try {
    night.fire(NIGHT);
    await night.settle();
    const totalPages = night.twin.events.events
      .filter((e) => e.detailType === DetailType.PagesPlanned)
      .reduce((sum, e) => sum + PlannedSchema.parse(e.detail).totalPages, 0);
    return { report: await nightReportOf(night), totalPages, night };
  } finally {
    await night.stop();
  }
}

const edited = (edit: Parameters<typeof editedAssembly>[1], from = stack.assemblyDir) => {
  const copy = editedAssembly(from, edit);
  copies.push(copy);
  return copy;
};

describe('a night of the synthesized stack, driven on the cloud twin until quiet', () => {
  it('fires the schedule at its first firing the morning after the night; a bound too small fails naming what still moves, and the night goes on from there', async () => {
    const night = await TwinNight.start({ assemblyDir: stack.assemblyDir, fleet: FLEET });
    try {
      const firings = night.fire(NIGHT);
      expect(
        firings.map((f) => ({ time: f.time.toISOString(), fromCron: f.fromCron, targets: f.targets })),
      ).toEqual([{ time: '2026-11-25T01:00:00.000Z', fromCron: true, targets: 2 }]);
      const tooFew = night.settle({ maxRounds: 1 });
      await expect(tooFew).rejects.toThrow(NightDidNotSettleError);
      await expect(tooFew).rejects.toThrow(
        /^the night did not settle in 1 rounds: \d+ (event|delivery|message)/,
      );
      expect(await night.quiet()).toBe(false);

      const rounds = await night.settle();
      expect(rounds.length).toBeGreaterThan(0);
      expect(await night.quiet()).toBe(true);
    } finally {
      await night.stop();
    }
  }, 120_000);

  it('takes a whole night to EtlDone: every page downloaded and drained, every SQL file run on the twin’s Athena, nothing refused', async () => {
    const { report, totalPages } = await nightOf(stack.assemblyDir);

    expect(totalPages).toBeGreaterThan(2);
    expect(report.events).toEqual({
      [DetailType.PagesPlanned]: 2,
      [DetailType.PageDownloaded]: totalPages,
      [DetailType.DownloadsDrained]: 1,
      // One per SQL file of queries/, in order, then the night's answer.
      [DetailType.SqlFileExecuted]: readdirSync('queries').filter((f) => f.endsWith('.sql')).length,
      [DetailType.EtlDone]: 1,
    });
    expect(report.refusals).toEqual([]);
    expect(report.refusedDeliveries).toEqual([]);
    expect(report.lambdaFailures).toEqual([]);
    expect(report.deadLetters).toEqual([]);
    expect(report.etlFailed).toEqual([]);
    expect(report.outcome).toEqual({ status: 'done', furthest: DetailType.EtlDone });
    expect(report.verdict).toEqual({ passed: true, reasons: [] });
  }, 120_000);

  it('reports a forgotten grant as the refused call and the statement that would allow it; that statement, added, lets the night through', async () => {
    const broken = edited(withoutAction(DOWNLOADER_ROLE, 'events:PutEvents'));
    const { report, totalPages, night } = await nightOf(broken);
    const downloader = night.functionOf('Services/Downloader');
    const [bus] = night.twin.model.eventBuses.values();
    if (bus === undefined) throw new Error('no bus');

    expect(report.refusals).toEqual([
      {
        kind: 'missing-grant',
        call: expect.objectContaining({
          session: downloader.name,
          role: downloader.roleLogicalId,
          action: 'events:PutEvents',
          resource: bus.arn,
        }),
        statement: { Effect: 'Allow', Action: 'events:PutEvents', Resource: bus.arn },
        count: expect.any(Number),
      },
    ]);
    // The pages were stored, but never announced: the tasks went round until the queue gave up on them.
    expect(report.events[DetailType.PageDownloaded]).toBeUndefined();
    const tasksDlq = [...night.twin.model.queues.values()].find((q) =>
      [...night.twin.model.queues.values()].some((t) => t.redrive?.deadLetterTargetArn === q.arn),
    );
    expect(report.deadLetters).toEqual([
      expect.objectContaining({ queue: tasksDlq?.name, messages: totalPages }),
    ]);
    expect(report.lambdaFailures).toEqual([
      expect.objectContaining({ function: downloader.name, via: 'queue', notEmulated: false }),
    ]);
    expect(report.outcome).toEqual({
      status: 'stopped',
      furthest: DetailType.PagesPlanned,
      stoppedAt: downloader.name,
      reason: `events:PutEvents on ${bus.arn} was refused`,
    });
    expect(report.verdict.passed).toBe(false);
    expect(report.verdict.reasons).toContain(`${downloader.name} was refused events:PutEvents on ${bus.arn}`);

    const [finding] = report.refusals;
    if (finding?.kind !== 'missing-grant') throw new Error('expected a missing grant');
    const fixed = edited(withStatement(DOWNLOADER_ROLE, finding.statement), broken);
    const again = await nightOf(fixed);
    expect(again.report.refusals).toEqual([]);
    expect(again.report.events[DetailType.PageDownloaded]).toBe(again.totalPages);
    expect(again.report.events[DetailType.DownloadsDrained]).toBe(1);
    expect(again.report.verdict).toEqual({ passed: true, reasons: [] });
  }, 240_000);

  it('refuses an assembly with a function Lambda would not create, and leaves no process of it running', async () => {
    const reserved = edited(withVariable('ServicesReport', 'AWS_REGION', 'us-east-1'));
    const processes = () => process.getActiveResourcesInfo().filter((r) => r === 'ProcessWrap').length;
    // A child's handle is released on a turn after its 'close': an earlier test's may still be counted here.
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    await nextTurn();
    const before = processes();
    const starting = TwinNight.start({ assemblyDir: reserved, fleet: FLEET });
    await expect(starting).rejects.toThrow(FunctionInitError);
    await expect(starting).rejects.toThrow(/cannot be deployed: AWS_REGION is reserved/);
    await nextTurn();
    // Four environments were started before the report's refused one: none of them may be left.
    expect(processes()).toBeLessThanOrEqual(before);
  }, 60_000);
});
