import { describeMissingNights, nightOfRun } from '../../../cli/unsummarised-nights.js';
import { runIdFor } from '../../../services/shared/run-identity.js';
import { windowOfDay } from '../../../services/source-config/index.js';

describe('nightOfRun', () => {
  it('is the day of a UTC night, and the local day of a night in another zone', () => {
    expect(nightOfRun('2026-01-02', 'UTC')).toBe('2026-01-02');
    const paris = runIdFor(windowOfDay('2026-03-29', 'Europe/Paris'));
    expect(paris).toBe('20260328T230000Z-20260329T220000Z');
    expect(nightOfRun(paris, 'Europe/Paris')).toBe('2026-03-29');
  });

  it('is undefined for a run that is no whole night in the zone', () => {
    expect(nightOfRun('20260328T230000Z-20260329T220000Z', 'UTC')).toBeUndefined();
    expect(nightOfRun('2026-01-02', 'Europe/Paris')).toBeUndefined();
  });
});

describe('describeMissingNights', () => {
  it('gives one command per stretch of consecutive nights', () => {
    const text = describeMissingNights(['2026-01-02', '2026-01-03', '2026-01-05'], 'UTC', ' --state-dir s');
    expect(text).toContain('3 night(s)');
    expect(text).toContain('  etl run --from 2026-01-02 --to 2026-01-03 --state-dir s\n');
    expect(text).toContain('  etl run --date 2026-01-05 --state-dir s\n');
  });

  it('lists by id the runs that are no whole night', () => {
    const text = describeMissingNights(['2026-01-02', '20260101T120000Z-20260102T120000Z'], 'UTC', '');
    expect(text).toContain('  etl run --date 2026-01-02\n');
    expect(text).toContain('and the runs 20260101T120000Z-20260102T120000Z');
  });
});
