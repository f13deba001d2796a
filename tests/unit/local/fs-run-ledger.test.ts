import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FsRunLedger } from '../../../services/adapters/local/fs-run-ledger.js';
import { TerminalError } from '../../../services/shared/errors.js';
import { runId, window } from '../../helpers/samples.js';

const ledger = () => new FsRunLedger(mkdtempSync(path.join(tmpdir(), 'ledger-')));

describe('FsRunLedger', () => {
  it('counts each page once and sums its rows', async () => {
    const l = ledger();
    expect(await l.recordPage(runId, 'sensors', 1, 10)).toBe(true);
    expect(await l.recordPage(runId, 'sensors', 1, 10)).toBe(false);
    expect(await l.recordPage(runId, 'sensors', 2, 5)).toBe(true);
    await l.recordPlan(runId, 'sensors', { totalPages: 2, window });
    expect(await l.progress(runId)).toEqual({
      window,
      datasets: { sensors: { totalPages: 2, storedPages: 2, rows: 15 } },
    });
  });

  it('refuses a plan that contradicts the recorded one', async () => {
    const l = ledger();
    await l.recordPlan(runId, 'sensors', { totalPages: 2, window });
    await l.recordPlan(runId, 'sensors', { totalPages: 2, window });
    await expect(l.recordPlan(runId, 'sensors', { totalPages: 3, window })).rejects.toThrow(TerminalError);
  });

  it('grants the drained claim to exactly one of many concurrent callers', async () => {
    const l = ledger();
    const claims = await Promise.all(Array.from({ length: 20 }, () => l.claimDrained(runId)));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('forgets a run on reset, and only that run', async () => {
    const l = ledger();
    await l.recordPage(runId, 'sensors', 1, 10);
    await l.recordPage('2026-11-23', 'sensors', 1, 10);
    await l.claimDrained(runId);
    await l.reset(runId);
    expect(await l.progress(runId)).toEqual({ window: undefined, datasets: {} });
    expect(await l.claimDrained(runId)).toBe(true);
    expect((await l.progress('2026-11-23')).datasets.sensors?.storedPages).toBe(1);
  });
});
