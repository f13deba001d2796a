/**
 * A warehouse whose nights ran before queries/38_vehicle_day_intervals.sql existed has their readings in
 * sensor_data and none in the summary the answer is computed from (decision 88): `etl run` refuses to run another
 * night on it, naming the nights to run again and how, until they are run again (or run with it); then the answer
 * covers every night, as a warehouse built with 38 from the start gives it (decision 94).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runEtl } from '../helpers/etl-process.js';

const TIMEOUT = 240_000;
const FLEET = ['--vehicles', '4', '--readings', '30', '--seed', '7', '--page-size', '50'];
const OLD_NIGHTS = ['2026-01-02', '2026-01-03'] as const;
const NEW_NIGHT = '2026-01-04';

/** The bundled SQL as it was before the summary: no 38, and the answer read from all of sensor_data. */
function sqlBeforeTheSummary(dir: string): string {
  const folder = path.join(dir, 'queries-before-38');
  cpSync('queries', folder, { recursive: true });
  rmSync(path.join(folder, '38_vehicle_day_intervals.sql'));
  cpSync(
    'tests/helpers/full-history-answer.sql',
    path.join(folder, '40_avg_seconds_between_measurements.sql'),
  );
  return folder;
}

/** The answer's table as `etl run` prints it, without the lines naming the state folder. */
const answerOf = (stdout: string) => stdout.slice(0, stdout.indexOf('raw NDJSON:')).trim();

describe('a warehouse from before the per-vehicle-day summary', () => {
  it(
    'is refused with the nights to run again, and answers for every night once they are',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'etl-unsummarised-'));
      const state = path.join(dir, 'state');
      const before = sqlBeforeTheSummary(dir);
      for (const night of OLD_NIGHTS) {
        const old = await runEtl([
          'run',
          ...FLEET,
          '--date',
          night,
          '--state-dir',
          state,
          '--sql-source',
          before,
        ]);
        expect(old).toMatchObject({ exitCode: 0, timedOut: false });
      }

      // Another night with today's SQL: refused before anything is fetched, naming both old nights.
      const refused = await runEtl(['run', ...FLEET, '--date', NEW_NIGHT, '--state-dir', state]);
      expect(refused).toMatchObject({ exitCode: 2, timedOut: false });
      expect(refused.stderr).toContain(
        'the warehouse holds 2 night(s) whose readings are in sensor_data but not in vehicle_day_intervals',
      );
      expect(refused.stderr).toContain(`etl run --from 2026-01-02 --to 2026-01-03 --state-dir ${state}\n`);
      expect(refused.stderr).not.toContain(`stored sensors`);

      // A backfill that runs one of them is still refused for the other.
      const partly = await runEtl([
        'run',
        ...FLEET,
        '--from',
        '2026-01-03',
        '--to',
        NEW_NIGHT,
        '--state-dir',
        state,
      ]);
      expect(partly).toMatchObject({ exitCode: 2 });
      expect(partly.stderr).toContain(`etl run --date 2026-01-02 --state-dir ${state}\n`);

      // Run with the nights it names, the new night is answered over all three.
      const migrated = await runEtl([
        'run',
        ...FLEET,
        '--from',
        '2026-01-02',
        '--to',
        NEW_NIGHT,
        '--state-dir',
        state,
      ]);
      expect(migrated).toMatchObject({ exitCode: 0, timedOut: false });
      const again = await runEtl(['run', ...FLEET, '--date', NEW_NIGHT, '--state-dir', state]);
      expect(again).toMatchObject({ exitCode: 0, timedOut: false });

      const fresh = path.join(dir, 'fresh');
      const reference = await runEtl([
        'run',
        ...FLEET,
        '--from',
        '2026-01-02',
        '--to',
        NEW_NIGHT,
        '--state-dir',
        fresh,
      ]);
      expect(reference).toMatchObject({ exitCode: 0 });
      const lastNight = (stdout: string) =>
        answerOf(stdout.slice(stdout.lastIndexOf('avg_seconds_between_measurements, the warehouse')));
      expect(lastNight(again.stdout)).toContain('(3 nights since run 2026-01-02)');
      expect(lastNight(again.stdout)).toBe(lastNight(reference.stdout));
    },
    TIMEOUT,
  );
});
