import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteRunLedger } from '../../../../../../services/adapters/local/sqlite/sqlite-run-ledger.js';
import { openStateDatabase } from '../../../../../../services/adapters/local/sqlite/state-database.js';
import { TerminalError } from '../../../../../../services/shared/errors.js';
import { runId, window } from '../../../../../helpers/samples.js';

const ledger = () => new SqliteRunLedger(openStateDatabase(':memory:'));
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

describe('SqliteRunLedger', () => {
  it('counts each page once and sums its rows, whether the plan comes first or last', async () => {
    const l = ledger();
    expect(await l.recordPage(runId, 'sensors', 1, 10)).toBe(true);
    expect(await l.recordPage(runId, 'sensors', 1, 10)).toBe(false);
    expect(await l.recordPage(runId, 'sensors', 2, 5)).toBe(true);
    expect((await l.progress(runId)).datasets.sensors).toEqual({
      totalPages: undefined,
      storedPages: 2,
      rows: 15,
    });
    await l.recordPlan(runId, 'sensors', { totalPages: 2, window });
    expect(await l.progress(runId)).toEqual({
      window,
      datasets: { sensors: { totalPages: 2, storedPages: 2, rows: 15 } },
      failures: [],
      drained: false,
      finished: false,
    });
  });

  it('tells the rows and checksum recorded for a stored page, the first record kept, and nothing for a page not stored', async () => {
    const l = ledger();
    await l.recordPage(runId, 'sensors', 1, 10, SHA_A);
    await l.recordPage(runId, 'sensors', 1, 99, SHA_B);
    await l.recordPage(runId, 'sensors', 3, 4);

    expect(await l.storedPage(runId, 'sensors', 1)).toEqual({ rows: 10, sha256: SHA_A });
    // Announced without a checksum (an older downloader): the rows only.
    expect(await l.storedPage(runId, 'sensors', 3)).toEqual({ rows: 4 });
    expect(await l.storedPage(runId, 'sensors', 2)).toBeUndefined();
    expect(await l.storedPage(runId, 'vehicles', 1)).toBeUndefined();
  });

  it('keeps the checksums of pages recorded after an upgrade of a state file written before checksums', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'state-')), 'state.sqlite');
    const first = openStateDatabase(file);
    // What an earlier version left: ledger_pages without the sha256 column, user_version 2.
    first.exec('ALTER TABLE ledger_pages DROP COLUMN sha256; PRAGMA user_version = 2');
    first
      .prepare('INSERT INTO ledger_pages (run_id, dataset, page, rows) VALUES (?, ?, ?, ?)')
      .run(runId, 'sensors', 1, 10);
    first.close();

    const reopened = new SqliteRunLedger(openStateDatabase(file));
    await reopened.recordPage(runId, 'sensors', 2, 5, SHA_A);

    expect(await reopened.storedPage(runId, 'sensors', 1)).toEqual({ rows: 10 });
    expect(await reopened.storedPage(runId, 'sensors', 2)).toEqual({ rows: 5, sha256: SHA_A });
  });

  it('refuses a plan that contradicts the recorded one', async () => {
    const l = ledger();
    await l.recordPlan(runId, 'sensors', { totalPages: 2, window });
    await l.recordPlan(runId, 'sensors', { totalPages: 2, window });
    await expect(l.recordPlan(runId, 'sensors', { totalPages: 3, window })).rejects.toThrow(TerminalError);
  });

  it('keeps a plan’s page size, refuses another for the same night, and learns it for a plan recorded without', async () => {
    const l = ledger();
    await l.recordPlan(runId, 'sensors', { totalPages: 2, window, pageSize: 100 });
    await l.recordPlan(runId, 'sensors', { totalPages: 2, window, pageSize: 100 });
    expect((await l.progress(runId)).datasets.sensors).toMatchObject({ totalPages: 2, pageSize: 100 });
    // Same page count, other page size: other rows under the same page numbers.
    await expect(l.recordPlan(runId, 'sensors', { totalPages: 2, window, pageSize: 50 })).rejects.toThrow(
      /pages of 50 rows conflicts with the recorded 100/,
    );
    await l.recordPlan(runId, 'vehicles', { totalPages: 1, window });
    expect((await l.progress(runId)).datasets.vehicles?.pageSize).toBeUndefined();
    await l.recordPlan(runId, 'vehicles', { totalPages: 1, window, pageSize: 7 });
    expect((await l.progress(runId)).datasets.vehicles?.pageSize).toBe(7);
  });

  it('grants the drained claim to exactly one of many callers, until it is released', async () => {
    const l = ledger();
    const claimant = { id: 'event', leaseExpiresAt: new Date(Date.now() + 60_000) };
    const claims = await Promise.all(Array.from({ length: 20 }, () => l.claimDrained(runId, claimant)));
    expect(claims.filter((c) => c.outcome === 'won')).toHaveLength(1);
    // No lease here (the state folder's lock; decision 77): every other caller is told it is announced.
    expect(claims.filter((c) => c.outcome === 'announced')).toHaveLength(19);
    expect((await l.progress(runId)).drained).toBe(true);
    await l.releaseClaim(runId);
    expect(await l.claimDrained(runId, claimant)).toEqual({ outcome: 'won' });
  });

  it('keeps a page failure only while the page is not stored', async () => {
    const l = ledger();
    await l.recordPageFailure(runId, 'sensors', 3, '503 five times');
    await l.recordPageFailure(runId, 'sensors', 3, '429 five times');
    expect((await l.progress(runId)).failures).toEqual([
      { dataset: 'sensors', page: 3, reason: '429 five times' },
    ]);
    await l.recordPage(runId, 'sensors', 3, 1);
    expect((await l.progress(runId)).failures).toEqual([]);
    await l.recordPageFailure(runId, 'sensors', 3, 'a late duplicate failed');
    expect((await l.progress(runId)).failures).toEqual([]);
  });

  it('forgets a run on reset, and only that run', async () => {
    const l = ledger();
    await l.recordPage(runId, 'sensors', 1, 10);
    await l.recordPage('2026-11-23', 'sensors', 1, 10);
    await l.claimDrained(runId, { id: 'event', leaseExpiresAt: new Date() });
    await l.markFinished(runId);
    await l.reset(runId);
    expect(await l.progress(runId)).toEqual({
      window: undefined,
      datasets: {},
      failures: [],
      drained: false,
      finished: false,
    });
    expect((await l.progress('2026-11-23')).datasets.sensors?.storedPages).toBe(1);
  });

  it('keeps what was recorded across a reopen of the state file', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'state-')), 'state.sqlite');
    const first = openStateDatabase(file);
    await new SqliteRunLedger(first).recordPage(runId, 'sensors', 1, 10);
    first.close();
    const progress = await new SqliteRunLedger(openStateDatabase(file)).progress(runId);
    expect(progress.datasets.sensors?.storedPages).toBe(1);
  });

  it('counts the pages of a state file written before pages were counted as they are recorded', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'state-')), 'state.sqlite');
    const first = openStateDatabase(file);
    await new SqliteRunLedger(first).recordPage(runId, 'sensors', 1, 10);
    // What an earlier version left: pages, no counts, user_version 0.
    first.exec(
      'DROP TRIGGER ledger_pages_counted; DROP TRIGGER ledger_pages_uncounted; DROP TABLE ledger_page_counts',
    );
    first
      .prepare('INSERT INTO ledger_pages (run_id, dataset, page, rows) VALUES (?, ?, ?, ?)')
      .run(runId, 'sensors', 2, 5);
    first.exec('PRAGMA user_version = 0');
    first.close();
    const reopened = new SqliteRunLedger(openStateDatabase(file));
    await reopened.recordPage(runId, 'sensors', 3, 1);
    expect((await reopened.progress(runId)).datasets.sensors).toEqual({
      totalPages: undefined,
      storedPages: 3,
      rows: 16,
    });
  });
});
