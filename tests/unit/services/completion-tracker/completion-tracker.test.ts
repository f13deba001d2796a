import fc from 'fast-check';
import { type Dataset, parseFleetEvent } from '../../../../events/index.js';
import { SqliteRunLedger } from '../../../../services/adapters/local/sqlite/sqlite-run-ledger.js';
import { openStateDatabase } from '../../../../services/adapters/local/sqlite/state-database.js';
import { completionDetailTypes } from '../../../../services/completion-tracker/handler.js';
import {
  type CompletionEvent,
  DRAIN_LEASE_MARGIN_MS,
  trackCompletion,
} from '../../../../services/completion-tracker/track-completion.js';
import type { DrainClaim, DrainClaimant, RunLedger } from '../../../../services/ports/run-ledger.js';
import { TransientError } from '../../../../services/shared/errors.js';
import { envelope, fixedClock, RecordingPublisher, recordingLogger } from '../../../helpers/fakes.js';
import { runId, validDetails, window } from '../../../helpers/samples.js';

const parse = (detailType: string, detail: Record<string, unknown>): CompletionEvent =>
  parseFleetEvent(envelope(detailType, detail), completionDetailTypes);

const planned = (dataset: Dataset, totalPages: number) =>
  parse('PagesPlanned', { ...validDetails.PagesPlanned, dataset, totalPages, window });

const downloaded = (dataset: Dataset, page: number, rows = 10) =>
  parse('PageDownloaded', {
    ...validDetails.PageDownloaded,
    dataset,
    page,
    rows,
    key: `${dataset}/run=${runId}/p${page}`,
  });

const gaveUp = (dataset: Dataset, page: number) =>
  parse('EtlFailed', {
    schemaVersion: 1,
    runId,
    stage: 'downloader',
    dataset,
    page,
    reason: `page ${page}: 500`,
  });

function deps() {
  return {
    ledger: new SqliteRunLedger(openStateDatabase(':memory:')),
    publisher: new RecordingPublisher(),
    datasets: ['vehicles', 'sensors'] as const,
    logger: recordingLogger(),
  };
}

describe('trackCompletion', () => {
  it('announces DownloadsDrained once every page of every dataset is stored, with totals', async () => {
    // Prepare
    const d = deps();
    const events = [
      planned('vehicles', 1),
      planned('sensors', 2),
      downloaded('vehicles', 1, 3),
      downloaded('sensors', 1),
      downloaded('sensors', 2, 7),
    ];

    // Act
    const outcomes = [];
    for (const e of events) outcomes.push(await trackCompletion(e, d));

    // Assess
    expect(outcomes).toEqual(['waiting', 'waiting', 'waiting', 'waiting', 'drained']);
    expect(d.publisher.ofType('DownloadsDrained')).toEqual([
      {
        schemaVersion: 1,
        runId,
        window,
        datasets: { vehicles: { pages: 1, rows: 3 }, sensors: { pages: 2, rows: 17 } },
      },
    ]);
  });

  it('records the checksum a page was announced with, for a resume to check the stored object against', async () => {
    const d = deps();
    const sha256 = 'e'.repeat(64);

    await trackCompletion(
      parse('PageDownloaded', { ...validDetails.PageDownloaded, page: 4, rows: 9, sha256 }),
      d,
    );

    expect(await d.ledger.storedPage(runId, validDetails.PageDownloaded.dataset, 4)).toEqual({
      rows: 9,
      sha256,
    });
  });

  it('counts a redelivered page once and does not announce twice', async () => {
    const d = deps();
    for (const e of [
      planned('vehicles', 1),
      planned('sensors', 1),
      downloaded('sensors', 1),
      downloaded('sensors', 1),
    ]) {
      await trackCompletion(e, d);
    }
    expect(d.publisher.ofType('DownloadsDrained')).toHaveLength(0);
    await trackCompletion(downloaded('vehicles', 1), d);
    await trackCompletion(downloaded('vehicles', 1), d);
    expect(d.publisher.ofType('DownloadsDrained')).toHaveLength(1);
    expect(d.publisher.ofType('DownloadsDrained')[0]).toMatchObject({
      datasets: { sensors: { pages: 1, rows: 10 } },
    });
  });

  it('waits for a plan that arrives after its pages, and completes a zero-page dataset at once', async () => {
    const d = deps();
    await trackCompletion(downloaded('sensors', 1), d);
    await trackCompletion(planned('vehicles', 0), d);
    expect(d.publisher.ofType('DownloadsDrained')).toHaveLength(0);
    expect(await trackCompletion(planned('sensors', 1), d)).toBe('drained');
  });

  it('records a page that gave up, keeps the run from draining, and drains once the page is stored after all', async () => {
    const d = deps();
    await trackCompletion(planned('vehicles', 0), d);
    await trackCompletion(planned('sensors', 2), d);
    await trackCompletion(downloaded('sensors', 1), d);
    expect(await trackCompletion(gaveUp('sensors', 2), d)).toBe('failed');
    expect((await d.ledger.progress(runId)).failures).toEqual([
      { dataset: 'sensors', page: 2, reason: 'page 2: 500' },
    ]);
    expect(d.publisher.ofType('DownloadsDrained')).toHaveLength(0);

    expect(await trackCompletion(downloaded('sensors', 2), d)).toBe('drained');
    expect((await d.ledger.progress(runId)).failures).toEqual([]);
  });

  it('gives the claim back when DownloadsDrained cannot be published, so a retry announces it', async () => {
    const d = deps();
    await trackCompletion(planned('vehicles', 0), d);
    d.publisher.failNext = 1;
    await expect(trackCompletion(planned('sensors', 0), d)).rejects.toThrow('PutEvents failed');
    expect(await trackCompletion(planned('sensors', 0), d)).toBe('drained');
    expect(d.publisher.ofType('DownloadsDrained')).toHaveLength(1);
  });

  it('records the end of the run on EtlDone', async () => {
    const d = deps();
    await trackCompletion(parse('EtlDone', validDetails.EtlDone), d);
    expect((await d.ledger.progress(runId)).finished).toBe(true);
  });
});

/** The local ledger, but its drained claim answers as scripted, and what the tracker asked of it is kept. */
function scriptedClaims(ledger: RunLedger, answer: DrainClaim) {
  const asked: DrainClaimant[] = [];
  let confirmed = 0;
  const scripted: RunLedger = Object.assign(Object.create(ledger) as RunLedger, {
    claimDrained: async (_runId: string, claimant: DrainClaimant) => {
      asked.push(claimant);
      return answer;
    },
    confirmDrained: async () => {
      confirmed += 1;
    },
  });
  return { ledger: scripted, asked, confirmed: () => confirmed };
}

describe("trackCompletion and the drained claim's lease", () => {
  const completeRun = async (d: ReturnType<typeof deps>) => {
    await trackCompletion(planned('vehicles', 0), d);
    return planned('sensors', 0);
  };

  it('claims for the event it handles, with a lease past the end of its invocation, and confirms after publishing', async () => {
    const d = deps();
    const last = await completeRun(d);
    const claims = scriptedClaims(d.ledger, { outcome: 'won' });

    const outcome = await trackCompletion(
      last,
      { ...d, ledger: claims.ledger, clock: fixedClock },
      { remainingTimeMs: 29_000 },
    );

    expect(outcome).toBe('drained');
    expect(claims.asked).toEqual([
      {
        id: last.id,
        leaseExpiresAt: new Date(fixedClock.now().getTime() + 29_000 + DRAIN_LEASE_MARGIN_MS),
      },
    ]);
    expect(d.publisher.ofType('DownloadsDrained')).toHaveLength(1);
    expect(claims.confirmed()).toBe(1);
  });

  it('takes over a lapsed claim: publishes, and says whose claim it was', async () => {
    const d = deps();
    const last = await completeRun(d);
    const claims = scriptedClaims(d.ledger, {
      outcome: 'won',
      tookOverFrom: { claimant: 'crashed-event', leaseExpiredAt: new Date('2026-11-25T00:59:00Z') },
    });

    expect(await trackCompletion(last, { ...d, ledger: claims.ledger })).toBe('drained');

    expect(d.publisher.ofType('DownloadsDrained')).toHaveLength(1);
    expect(d.logger.lines).toContainEqual({
      level: 'warn',
      message: 'took over a drained claim whose claimant never confirmed it',
    });
  });

  it("fails while its own event's earlier claim is live, so that Lambda retries after the lease", async () => {
    const d = deps();
    const last = await completeRun(d);
    const claims = scriptedClaims(d.ledger, {
      outcome: 'held',
      claimant: last.id,
      leaseExpiresAt: new Date('2026-11-25T01:00:40Z'),
    });

    const attempt = trackCompletion(last, { ...d, ledger: claims.ledger });

    await expect(attempt).rejects.toThrow(TransientError);
    await expect(attempt).rejects.toThrow(/until 2026-11-25T01:00:40.000Z/);
    expect(d.publisher.ofType('DownloadsDrained')).toHaveLength(0);
  });

  it("leaves another event's live claim to that event, without failing", async () => {
    const d = deps();
    const last = await completeRun(d);
    const claims = scriptedClaims(d.ledger, {
      outcome: 'held',
      claimant: 'another-event',
      leaseExpiresAt: new Date('2026-11-25T01:00:40Z'),
    });

    expect(await trackCompletion(last, { ...d, ledger: claims.ledger })).toBe('claimed-elsewhere');
    expect(d.publisher.ofType('DownloadsDrained')).toHaveLength(0);
    expect(claims.confirmed()).toBe(0);
  });
});

/**
 * Random runs: plans of 0–6 pages per dataset, some pages that always fail, every event delivered one to three
 * times, in a random order, in random concurrent groups, and PutEvents failing at random (the failed delivery is
 * delivered again later, as Lambda and EventBridge retry).
 */
describe('trackCompletion under random interleavings (property)', () => {
  const runArbitrary = fc
    .record({
      vehicles: fc.integer({ min: 0, max: 3 }),
      sensors: fc.integer({ min: 0, max: 6 }),
      seed: fc.integer(),
    })
    .chain((plan) => {
      const pages = [
        ...Array.from({ length: plan.vehicles }, (_, i) => `vehicles:${i + 1}`),
        ...Array.from({ length: plan.sensors }, (_, i) => `sensors:${i + 1}`),
      ];
      return fc.record({
        plan: fc.constant(plan),
        dead: fc.subarray(pages, { maxLength: Math.min(2, pages.length) }),
        copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 20, maxLength: 20 }),
        groupSizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 40 }),
        publishFailures: fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }),
      });
    });

  it('announces DownloadsDrained exactly once when, and only when, every page is stored', async () => {
    await fc.assert(
      fc.asyncProperty(runArbitrary, async ({ plan, dead, copies, groupSizes, publishFailures }) => {
        // Prepare: every delivery of the run.
        const d = deps();
        let copy = 0;
        const times = () => copies[copy++ % copies.length] ?? 1;
        const deliveries: CompletionEvent[] = [];
        const rowsOf = (dataset: Dataset, page: number) => (dataset === 'vehicles' ? page : 100 + page);
        for (const dataset of ['vehicles', 'sensors'] as const) {
          for (let n = times(); n > 0; n -= 1) deliveries.push(planned(dataset, plan[dataset]));
          for (let page = 1; page <= plan[dataset]; page += 1) {
            const event = dead.includes(`${dataset}:${page}`)
              ? gaveUp(dataset, page)
              : downloaded(dataset, page, rowsOf(dataset, page));
            for (let n = times(); n > 0; n -= 1) deliveries.push(event);
          }
        }
        const shuffled =
          fc.sample(fc.shuffledSubarray(deliveries, { minLength: deliveries.length }), {
            numRuns: 1,
            seed: plan.seed,
          })[0] ?? deliveries;

        // Act: concurrent groups; a delivery whose publish failed is delivered again at the end.
        let failure = 0;
        const queue = [...shuffled];
        for (let g = 0; queue.length > 0; g += 1) {
          const group = queue.splice(0, groupSizes[g % groupSizes.length] ?? 1);
          await Promise.all(
            group.map(async (event) => {
              d.publisher.failNext = publishFailures[failure++ % publishFailures.length] ? 1 : 0;
              try {
                await trackCompletion(event, d);
              } catch {
                queue.push(event);
              }
            }),
          );
        }
        d.publisher.failNext = 0;

        // Assess
        const drained = d.publisher.ofType('DownloadsDrained');
        if (dead.length > 0) {
          expect(drained).toHaveLength(0);
          expect((await d.ledger.progress(runId)).failures).toHaveLength(dead.length);
          return;
        }
        expect(drained).toHaveLength(1);
        const sum = (dataset: Dataset) =>
          Array.from({ length: plan[dataset] }, (_, i) => rowsOf(dataset, i + 1)).reduce((a, b) => a + b, 0);
        expect(drained[0]?.datasets).toEqual({
          vehicles: { pages: plan.vehicles, rows: sum('vehicles') },
          sensors: { pages: plan.sensors, rows: sum('sensors') },
        });
      }),
      { numRuns: 2_000 },
    );
  }, 120_000);
});
