import { lambdaContext } from '../../../../local/lambda-context.js';
import { createPlannerHandler } from '../../../../services/planner/handler.js';
import { planPages } from '../../../../services/planner/plan-pages.js';
import { TerminalError, TransientError } from '../../../../services/shared/errors.js';
import {
  FakeSource,
  fixedClock,
  RecordingPublisher,
  RecordingQueue,
  recordingLogger,
} from '../../../helpers/fakes.js';

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i }));

function deps(rowCount: number, pageSize = 10, sourceMaxPageSize = 50_000) {
  return {
    source: new FakeSource({ sensors: rows(rowCount), vehicles: rows(3) }, sourceMaxPageSize),
    queue: new RecordingQueue(),
    publisher: new RecordingPublisher(),
    clock: fixedClock,
    pageSize,
    logger: recordingLogger(),
  };
}

describe('planPages', () => {
  it('queues one task per page of the previous UTC day and announces the plan', async () => {
    // Prepare
    const d = deps(25);

    // Act
    const outcome = await planPages({ dataset: 'sensors', time: '2026-11-25T01:00:00.000Z' }, d);

    // Assess
    expect(outcome).toEqual({ runId: '2026-11-24', dataset: 'sensors', totalPages: 3 });
    expect(d.queue.sent.map((t) => t.page)).toEqual([1, 2, 3]);
    expect(d.queue.sent[0]).toMatchObject({
      runId: '2026-11-24',
      window: { from: '2026-11-24T00:00:00.000Z', to: '2026-11-25T00:00:00.000Z', timeZone: 'UTC' },
      pageSize: 10,
      totalPages: 3,
    });
    expect(d.publisher.ofType('PagesPlanned')).toEqual([
      expect.objectContaining({ runId: '2026-11-24', dataset: 'sensors', totalPages: 3, schemaVersion: 1 }),
    ]);
    expect(d.source.requests).toEqual([expect.objectContaining({ page: 1, pageSize: 10 })]);
  });

  it('plans zero pages for an empty day, so completion does not wait for it', async () => {
    const d = deps(0);
    await planPages({ dataset: 'sensors', time: '2026-11-25T01:00:00.000Z' }, d);
    expect(d.queue.sent).toEqual([]);
    expect(d.publisher.ofType('PagesPlanned')[0]).toMatchObject({ totalPages: 0 });
  });

  it('plans a night again with the page size its recorded plan has, whatever it is asked now', async () => {
    // Prepare: the night was planned with pages of 5 rows; now 10 are asked.
    const d = { ...deps(25, 10), recordedPageSize: async () => 5 };
    // Act
    const outcome = await planPages({ dataset: 'sensors', time: '2026-11-25T01:00:00.000Z' }, d);
    // Assess: the same pages as the first plan, and the change is logged.
    expect(outcome).toMatchObject({ totalPages: 5 });
    expect(d.queue.sent.map((t) => t.pageSize)).toEqual(Array(5).fill(5));
    expect(d.publisher.ofType('PagesPlanned')[0]).toMatchObject({ pageSize: 5, totalPages: 5 });
  });

  it('asks for no more rows per page than the source is configured to serve', async () => {
    const d = deps(25, 10, 4);
    const outcome = await planPages({ dataset: 'sensors', time: '2026-11-25T01:00:00.000Z' }, d);
    expect(outcome).toMatchObject({ totalPages: 7 });
    expect(d.queue.sent.map((t) => t.pageSize)).toEqual(Array(7).fill(4));
    expect(d.publisher.ofType('PagesPlanned')[0]).toMatchObject({ pageSize: 4, totalPages: 7 });
  });

  it('plans the window the source defines for the scheduled time', async () => {
    const d = deps(5);
    d.source.windowFor = () => ({
      from: '2026-11-24T05:00:00.000Z',
      to: '2026-11-25T05:00:00.000Z',
      timeZone: 'America/New_York',
    });
    const outcome = await planPages({ dataset: 'sensors', time: '2026-11-25T06:00:00.000Z' }, d);
    expect(outcome.runId).toBe('20261124T050000Z-20261125T050000Z');
    expect(d.queue.sent[0]?.window.timeZone).toBe('America/New_York');
  });

  it('derives the same run from any time of the same night', async () => {
    const early = deps(5);
    const late = deps(5);
    await planPages({ dataset: 'sensors', time: '2026-11-25T00:00:00.000Z' }, early);
    await planPages({ dataset: 'sensors', time: '2026-11-25T23:59:59.999Z' }, late);
    expect(early.queue.sent[0]?.runId).toBe(late.queue.sent[0]?.runId);
  });
});

describe('planPages when the API refuses', () => {
  it('fails the run with the API’s reason on a terminal error, queueing nothing', async () => {
    const d = deps(5);
    d.source.countPages = async () => {
      throw new TerminalError('400 Bad Request: pageSize must be at most 50000');
    };
    const outcome = await planPages({ dataset: 'sensors', time: '2026-11-25T01:00:00.000Z' }, d);
    expect(outcome).toMatchObject({ failed: expect.stringContaining('pageSize must be at most 50000') });
    expect(d.queue.sent).toEqual([]);
    expect(d.publisher.ofType('EtlFailed')).toEqual([
      expect.objectContaining({ runId: '2026-11-24', stage: 'planner', dataset: 'sensors', page: 1 }),
    ]);
  });

  it('rethrows a transient error so that Lambda retries the invocation', async () => {
    const d = deps(5);
    d.source.countPages = async () => {
      throw new TransientError('503 Service Unavailable');
    };
    await expect(planPages({ dataset: 'sensors', time: '2026-11-25T01:00:00.000Z' }, d)).rejects.toThrow(
      '503',
    );
    expect(d.publisher.events).toEqual([]);
  });
});

describe('planner handler', () => {
  it('refuses a schedule input without a known dataset, naming the field', async () => {
    const handler = createPlannerHandler(deps(5));
    await expect(
      handler(
        { dataset: 'drivers', time: '2026-11-25T01:00:00.000Z' } as never,
        lambdaContext('planner', 10),
      ),
    ).rejects.toThrow(/invalid planner input.*dataset/s);
  });
});

describe('planPages and a vehicles snapshot', () => {
  /** A source whose vehicles are fetched whole as `mode` says. */
  function snapshotDeps(mode: 'first-night' | 'every-night') {
    const d = deps(3);
    d.source.snapshotMode = (dataset) => (dataset === 'vehicles' ? mode : 'never');
    return d;
  }
  const vehiclesNight = { dataset: 'vehicles', time: '2026-11-25T01:00:00.000Z' } as const;

  it('marks every task of a first night as a full snapshot, and of a later night not', async () => {
    // Prepare
    const first = { ...snapshotDeps('first-night'), isFirstNight: async () => true };
    const later = { ...snapshotDeps('first-night'), isFirstNight: async () => false };

    // Act
    await planPages(vehiclesNight, first);
    await planPages(vehiclesNight, later);

    // Assess
    expect(first.source.requests).toEqual([expect.objectContaining({ fullSnapshot: true })]);
    expect(first.queue.sent.every((task) => task.fullSnapshot === true)).toBe(true);
    expect(later.source.requests[0]).not.toHaveProperty('fullSnapshot');
    expect(later.queue.sent.every((task) => task.fullSnapshot === undefined)).toBe(true);
  });

  it('fails the run, saying why, for "first-night" where it cannot tell a first night', async () => {
    const d = snapshotDeps('first-night');
    const outcome = await planPages(vehiclesNight, d);
    expect(outcome).toMatchObject({ failed: expect.stringMatching(/snapshot "first-night" needs to know/) });
    expect(d.queue.sent).toEqual([]);
  });

  it('fetches every night whole with "every-night"', async () => {
    const d = snapshotDeps('every-night');
    await planPages(vehiclesNight, d);
    expect(d.queue.sent.every((task) => task.fullSnapshot === true)).toBe(true);
  });
});
