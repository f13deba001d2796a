import { type DrainClaimant, isComplete, type RunLedger } from '../../services/ports/run-ledger.js';
import { TerminalError } from '../../services/shared/errors.js';
import { runId, window } from '../helpers/samples.js';
import { type AdapterFixture, describeContract } from './adapter-fixture.js';

export interface RunLedgerUnderTest {
  ledger: RunLedger;
  /** The clock the ledger reads: a drained claim's lease is compared with it. */
  clock: { now(): Date; advance(ms: number): void };
  /**
   * Whether an unconfirmed drained claim lapses at its lease's expiry (DynamoDB), or never does because its
   * claimant cannot die alone (the local ledger: one process holds the state folder; docs/decisions/0077).
   */
  claimsLapse: boolean;
  /** Whether the ledger answers `storedPage` (optional in the port). */
  readsStoredPages: boolean;
}

const otherRun = '2026-11-25';
const otherWindow = { from: '2026-11-25T00:00:00.000Z', to: '2026-11-26T00:00:00.000Z', timeZone: 'UTC' };
const empty = { window: undefined, datasets: {}, failures: [], drained: false, finished: false };

/** A claimant whose lease runs `seconds` past the clock's time, as the completion tracker asks. */
const claimant = (id: string, clock: { now(): Date }, seconds = 40): DrainClaimant => ({
  id,
  leaseExpiresAt: new Date(clock.now().getTime() + seconds * 1000),
});

/**
 * What the completion tracker and `etl run` rely on, whichever ledger counts the pages: every method idempotent,
 * distinct pages counted once, and one winner of the drained claim (services/ports/run-ledger.ts).
 */
export function runLedgerContract(fixture: AdapterFixture<RunLedgerUnderTest>): void {
  describeContract('RunLedger', fixture, (fresh) => {
    it('knows nothing of a run it never saw', async () => {
      const { ledger } = await fresh();
      expect(await ledger.progress(runId)).toEqual(empty);
    });

    it('records a plan once, however often it is announced, with its window and page size', async () => {
      const { ledger } = await fresh();
      await Promise.all(
        [1, 2, 3].map(() => ledger.recordPlan(runId, 'sensors', { totalPages: 2, window, pageSize: 100 })),
      );
      await ledger.recordPlan(runId, 'vehicles', { totalPages: 0, window });

      expect(await ledger.progress(runId)).toEqual({
        ...empty,
        window,
        datasets: {
          sensors: { totalPages: 2, pageSize: 100, storedPages: 0, rows: 0 },
          vehicles: { totalPages: 0, storedPages: 0, rows: 0 },
        },
      });
      expect(isComplete(await ledger.progress(runId), ['vehicles'])).toBe(true);
      expect(isComplete(await ledger.progress(runId), ['vehicles', 'sensors'])).toBe(false);
    });

    it('refuses a plan that contradicts the recorded one, naming the run and the dataset', async () => {
      const { ledger } = await fresh();
      await ledger.recordPlan(runId, 'sensors', { totalPages: 2, window, pageSize: 100 });

      for (const contradicting of [
        { totalPages: 3, window, pageSize: 100 },
        { totalPages: 2, window, pageSize: 50 },
      ]) {
        const recording = ledger.recordPlan(runId, 'sensors', contradicting);
        await expect(recording).rejects.toThrow(TerminalError);
        await expect(recording).rejects.toThrow(/run 2026-11-24 sensors: .*conflicts with the recorded/);
      }
      expect((await ledger.progress(runId)).datasets.sensors).toMatchObject({ totalPages: 2, pageSize: 100 });
    });

    it('learns the page size of a plan first recorded without one', async () => {
      const { ledger } = await fresh();
      await ledger.recordPlan(runId, 'vehicles', { totalPages: 1, window });
      await ledger.recordPlan(runId, 'vehicles', { totalPages: 1, window, pageSize: 7 });
      expect((await ledger.progress(runId)).datasets.vehicles?.pageSize).toBe(7);
    });

    it('counts each distinct page once, with its rows, whether the plan comes first or last', async () => {
      const { ledger } = await fresh();
      expect(await ledger.recordPage(runId, 'sensors', 1, 10)).toBe(true);
      expect(await ledger.recordPage(runId, 'sensors', 1, 10)).toBe(false);
      expect(await ledger.recordPage(runId, 'sensors', 2, 5)).toBe(true);
      expect((await ledger.progress(runId)).datasets.sensors).toEqual({
        totalPages: undefined,
        storedPages: 2,
        rows: 15,
      });

      await ledger.recordPlan(runId, 'sensors', { totalPages: 2, window });

      expect(await ledger.progress(runId)).toEqual({
        ...empty,
        window,
        datasets: { sensors: { totalPages: 2, storedPages: 2, rows: 15 } },
      });
      expect(isComplete(await ledger.progress(runId), ['sensors'])).toBe(true);
    });

    it('counts a page once when its deliveries race', async () => {
      const { ledger } = await fresh();
      const recorded = await Promise.all(
        Array.from({ length: 6 }, () => ledger.recordPage(runId, 'sensors', 3, 1_000)),
      );
      expect(recorded.filter(Boolean)).toHaveLength(1);
      expect((await ledger.progress(runId)).datasets.sensors).toMatchObject({ storedPages: 1, rows: 1_000 });
    });

    it('keeps the rows and checksum first recorded for a stored page, where the ledger can be read', async () => {
      const { ledger, readsStoredPages } = await fresh();
      if (!readsStoredPages) {
        expect(ledger.storedPage).toBeUndefined();
        return;
      }
      expect(ledger.storedPage).toBeInstanceOf(Function);
      if (ledger.storedPage === undefined) return;
      await ledger.recordPage(runId, 'sensors', 1, 10, 'a'.repeat(64));
      await ledger.recordPage(runId, 'sensors', 1, 99, 'b'.repeat(64));
      await ledger.recordPage(runId, 'sensors', 3, 4);
      expect(await ledger.storedPage(runId, 'sensors', 1)).toEqual({ rows: 10, sha256: 'a'.repeat(64) });
      expect(await ledger.storedPage(runId, 'sensors', 3)).toEqual({ rows: 4 });
      expect(await ledger.storedPage(runId, 'sensors', 2)).toBeUndefined();
      expect(await ledger.storedPage(otherRun, 'sensors', 1)).toBeUndefined();
    });

    it('keeps the last reason of a page that gave up, in page order, until the page is stored', async () => {
      const { ledger } = await fresh();
      await ledger.recordPageFailure(runId, 'vehicles', 1, 'HTTP 500 after 5 attempts');
      await ledger.recordPageFailure(runId, 'sensors', 12, 'HTTP 502');
      await ledger.recordPageFailure(runId, 'sensors', 3, 'HTTP 500');
      await ledger.recordPageFailure(runId, 'sensors', 12, 'timed out');

      expect((await ledger.progress(runId)).failures).toEqual([
        { dataset: 'sensors', page: 3, reason: 'HTTP 500' },
        { dataset: 'sensors', page: 12, reason: 'timed out' },
        { dataset: 'vehicles', page: 1, reason: 'HTTP 500 after 5 attempts' },
      ]);

      // Redriven and stored: no longer a failure of the run.
      await ledger.recordPage(runId, 'sensors', 12, 50);
      expect((await ledger.progress(runId)).failures.map((f) => [f.dataset, f.page])).toEqual([
        ['sensors', 3],
        ['vehicles', 1],
      ]);
    });

    it('ignores a failure of a page another attempt already stored', async () => {
      const { ledger } = await fresh();
      await ledger.recordPage(runId, 'sensors', 4, 10);
      await ledger.recordPageFailure(runId, 'sensors', 4, 'a duplicate attempt timed out');
      expect((await ledger.progress(runId)).failures).toEqual([]);
    });

    it('grants the drained claim to exactly one of many concurrent callers, until it is released', async () => {
      const { ledger, clock } = await fresh();
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) => ledger.claimDrained(runId, claimant(`event-${i}`, clock))),
      );

      expect(claims.filter((c) => c.outcome === 'won')).toEqual([{ outcome: 'won' }]);
      expect(
        claims.filter((c) => c.outcome === 'won' || c.outcome === 'held' || c.outcome === 'announced'),
      ).toHaveLength(8);
      expect((await ledger.progress(runId)).drained).toBe(true);

      await ledger.releaseClaim(runId);
      expect((await ledger.progress(runId)).drained).toBe(false);
      expect(await ledger.claimDrained(runId, claimant('event-8', clock))).toEqual({ outcome: 'won' });
    });

    it('never lets a confirmed claim go, however late the next caller comes', async () => {
      const { ledger, clock } = await fresh();
      await ledger.claimDrained(runId, claimant('published', clock));
      await ledger.confirmDrained(runId);
      clock.advance(24 * 3_600_000);

      expect(await ledger.claimDrained(runId, claimant('late', clock))).toEqual({ outcome: 'announced' });
      expect((await ledger.progress(runId)).drained).toBe(true);
    });

    it('leaves a claim released before its confirmation released', async () => {
      const { ledger, clock } = await fresh();
      await ledger.claimDrained(runId, claimant('publishing', clock));
      await ledger.releaseClaim(runId);
      await ledger.confirmDrained(runId);
      expect((await ledger.progress(runId)).drained).toBe(false);
    });

    it('holds an unconfirmed claim for its claimant; where claims lapse, exactly one later caller takes it over', async () => {
      const { ledger, clock, claimsLapse } = await fresh();
      expect(await ledger.claimDrained(runId, claimant('crashed', clock))).toEqual({ outcome: 'won' });
      clock.advance(39_999);
      const before = await ledger.claimDrained(runId, claimant('other', clock));
      clock.advance(2);
      const after = await Promise.all(
        Array.from({ length: 6 }, (_, i) => ledger.claimDrained(runId, claimant(`retry-${i}`, clock))),
      );

      if (!claimsLapse) {
        // The claimant lives as long as the process: the claim is being announced, never taken over.
        expect(before).toEqual({ outcome: 'announced' });
        expect(after.every((c) => c.outcome === 'announced')).toBe(true);
        return;
      }
      expect(before).toEqual({
        outcome: 'held',
        claimant: 'crashed',
        leaseExpiresAt: new Date(Date.parse('2026-11-25T01:00:40.000Z')),
      });
      expect(after.filter((c) => c.outcome === 'won')).toEqual([
        {
          outcome: 'won',
          tookOverFrom: {
            claimant: 'crashed',
            leaseExpiredAt: new Date(Date.parse('2026-11-25T01:00:40.000Z')),
          },
        },
      ]);
      expect(after.filter((c) => c.outcome === 'held')).toHaveLength(5);
    });

    it('marks a run finished, once however often', async () => {
      const { ledger } = await fresh();
      await ledger.markFinished(runId);
      await ledger.markFinished(runId);
      expect(await ledger.progress(runId)).toEqual({ ...empty, finished: true });
    });

    it('forgets everything of a run on reset, and nothing of another run', async () => {
      const { ledger, clock } = await fresh();
      for (const [run, runWindow] of [
        [runId, window],
        [otherRun, otherWindow],
      ] as const) {
        await ledger.recordPlan(run, 'sensors', { totalPages: 2, window: runWindow, pageSize: 10 });
        await ledger.recordPage(run, 'sensors', 1, 10);
        await ledger.recordPageFailure(run, 'sensors', 2, 'HTTP 500');
        await ledger.claimDrained(run, claimant(`tracker-${run}`, clock));
        await ledger.markFinished(run);
      }
      const other = await ledger.progress(otherRun);

      await ledger.reset(runId);

      expect(await ledger.progress(runId)).toEqual(empty);
      expect(await ledger.progress(otherRun)).toEqual(other);
      // A reset run is recorded afresh: the same page counts again, the claim can be won again.
      expect(await ledger.recordPage(runId, 'sensors', 1, 10)).toBe(true);
      expect(await ledger.claimDrained(runId, claimant('next-attempt', clock))).toEqual({ outcome: 'won' });
    });
  });
}
