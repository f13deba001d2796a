/**
 * The `etl` command as people meet it: help, version, pipes that close early, nights that are not over, a failed
 * night's output, and `etl runs` over a state folder filled by real runs.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { COMMANDS } from '../../cli/commands.js';
import { ETL, runEtl } from '../helpers/etl-process.js';
import { envelope } from '../helpers/fakes.js';

/** Each test starts etl processes, some of them whole runs. */
const TIMEOUT = 180_000;

/** A small fleet in pages of 20 rows: several sensors pages a night, the first of which the planner fetches. */
const FLEET = ['--vehicles', '5', '--readings', '10', '--seed', '7', '--page-size', '20'];

/** Runs a bash pipeline; resolves with etl's own exit code (PIPESTATUS[0]) and what it wrote to stderr. */
function pipeline(command: string): Promise<{ etlExit: number; stderr: string }> {
  const script = `${command} 2>"$ERR"; echo "\${PIPESTATUS[0]}"`;
  const errFile = path.join(mkdtempSync(path.join(tmpdir(), 'etl-pipe-')), 'stderr');
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', script], { env: { ...process.env, ERR: errFile } }, (error, stdout) => {
      if (error) return reject(error);
      resolve({ etlExit: Number(stdout.trim().split('\n').at(-1)), stderr: readFileSync(errFile, 'utf8') });
    });
  });
}

describe('etl help and version', () => {
  it.each(COMMANDS.map((spec) => spec.name))(
    'etl %s --help, -h and etl help %s print the same help and exit 0',
    async (name) => {
      const [long, short, viaHelp] = await Promise.all([
        runEtl([name, '--help']),
        runEtl([name, '-h']),
        runEtl(['help', name]),
      ]);
      expect(long).toMatchObject({ exitCode: 0, stderr: '' });
      expect(long.stdout).toMatch(new RegExp(`^etl ${name}: .*\\n\\nUsage:\\n {2}etl ${name}`));
      expect(long.stdout).toMatch(/\nFlags:\n[\s\S]*-h, --help +show this help\n\nExamples?:\n {2}\S*etl /);
      expect(short).toMatchObject({ exitCode: 0, stdout: long.stdout });
      expect(viaHelp).toMatchObject({ exitCode: 0, stdout: long.stdout });
    },
    TIMEOUT,
  );

  it(
    'answers --help after other flags, without running the command',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'etl-help-'));
      const outcome = await runEtl(['run', '--state-dir', path.join(dir, 'state'), '--help']);
      expect(outcome.exitCode).toBe(0);
      expect(outcome.stdout).toContain('Usage:\n  etl run');
      expect(existsSync(path.join(dir, 'state'))).toBe(false);
    },
    TIMEOUT,
  );

  it(
    'prints the version package.json gives, with --version and -v',
    async () => {
      const pkg = z
        .object({ name: z.string(), version: z.string() })
        .parse(JSON.parse(readFileSync('package.json', 'utf8')));
      for (const flag of ['--version', '-v']) {
        expect(await runEtl([flag])).toMatchObject({
          exitCode: 0,
          stdout: `${pkg.name} ${pkg.version}\n`,
          stderr: '',
        });
      }
    },
    TIMEOUT,
  );

  it(
    'refuses an unknown flag with the command’s usage and where its help is (exit 2)',
    async () => {
      const outcome = await runEtl(['run', '--dte', '2026-11-24']);
      expect(outcome.exitCode).toBe(2);
      // The first line is node's parseArgs' own, whose wording differs between Node.js versions.
      expect(outcome.stderr).toMatch(/^etl: Unknown option '--dte'.*\n\n/);
      expect(outcome.stderr).toMatch(
        /\n\nUsage:\n {2}etl run \[--date YYYY-MM-DD \| --from YYYY-MM-DD --to YYYY-MM-DD\] \[flags\]\nRun "etl run --help" for its flags and an example\.\n$/,
      );
    },
    TIMEOUT,
  );
});

describe('etl on a pipe that closes early', () => {
  it(
    'exits quietly when the reader is gone before etl writes',
    async () => {
      const outcome = await pipeline(`node ${ETL} run --help | true`);
      expect(outcome).toEqual({ etlExit: 0, stderr: '' });
    },
    TIMEOUT,
  );

  it(
    'exits quietly when the reader stops after the first line (etl events | head -1)',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'etl-pipe-'));
      mkdirSync(path.join(dir, 'events'));
      // Far more than a pipe holds (64 KiB), so etl is still writing when head has gone.
      const lines = Array.from({ length: 3_000 }, (_, i) =>
        JSON.stringify({
          ...envelope('EtlFailed', {
            runId: '2026-11-24',
            stage: 'downloader',
            reason: `page ${i + 1} failed`,
          }),
          bus: 'fleet-etl',
        }),
      );
      writeFileSync(path.join(dir, 'events', 'archive.ndjson'), `${lines.join('\n')}\n`);
      const outcome = await pipeline(`node ${ETL} events --state-dir ${dir} | head -1 >/dev/null`);
      expect(outcome).toEqual({ etlExit: 0, stderr: '' });
    },
    TIMEOUT,
  );
});

describe('nights that are not over', () => {
  it(
    'refuses a night in the future, naming it and the override, and leaves no state folder',
    async () => {
      const stateDir = path.join(mkdtempSync(path.join(tmpdir(), 'etl-future-')), 'state');
      const outcome = await runEtl(['run', '--date', '2999-01-01', '--state-dir', stateDir]);
      expect(outcome.exitCode).toBe(2);
      expect(outcome.stderr).toMatch(
        /^etl: the night 2999-01-01 \(UTC\) is in the future: it starts at 2999-01-01T00:00:00\.000Z, and it is \S+ now; its data would be incomplete\. Run it once it is over, or pass --allow-future to run it anyway\./,
      );
      expect(existsSync(stateDir)).toBe(false);
    },
    TIMEOUT,
  );

  it(
    'refuses tonight, which is not over yet, and a backfill that reaches it',
    async () => {
      const stateDir = path.join(mkdtempSync(path.join(tmpdir(), 'etl-future-')), 'state');
      const today = new Date().toISOString().slice(0, 10);
      const single = await runEtl(['run', '--date', today, '--state-dir', stateDir]);
      expect(single.exitCode).toBe(2);
      expect(single.stderr).toContain(`the night ${today} (UTC) is not over yet`);
      const backfill = await runEtl(['run', '--from', '2026-11-20', '--to', today, '--state-dir', stateDir]);
      expect(backfill.exitCode).toBe(2);
      expect(backfill.stderr).toContain(`the night ${today} (UTC) is not over yet`);
      expect(existsSync(stateDir)).toBe(false);
    },
    TIMEOUT,
  );
});

const RunsSchema = z.object({
  stateDir: z.string(),
  runs: z.array(
    z.object({
      runId: z.string(),
      status: z.enum(['succeeded', 'failed', 'unfinished']),
      window: z.object({ from: z.string(), to: z.string(), timeZone: z.string() }).nullable(),
      datasets: z.record(
        z.string(),
        z.object({
          plannedPages: z.number().nullable(),
          storedPages: z.number(),
          rows: z.number(),
          quarantinedRows: z.number(),
          outsideWindowRows: z.number(),
        }),
      ),
      unknownVehicleReadings: z.number().nullable(),
      attempts: z.number(),
      startedAt: z.string().nullable(),
      endedAt: z.string().nullable(),
      durationMs: z.number().nullable(),
      failures: z.array(z.string()),
      report: z.string().nullable(),
    }),
  ),
});

describe('a failed night, then etl runs', () => {
  const stateDir = path.join(mkdtempSync(path.join(tmpdir(), 'etl-runs-')), 'state');
  const run = (date: string, ...extra: string[]) =>
    runEtl(['run', '--date', date, '--state-dir', stateDir, ...FLEET, ...extra]);

  it(
    'points at the failed night’s own report, and etl runs tells the nights apart',
    async () => {
      expect((await run('2026-11-24')).exitCode).toBe(0);
      // Page 2: page 1 is fetched by the planner (it learns total_pages from it), page 2 by the downloader.
      const failed = await run('2026-11-25', '--fail-page', 'sensors:2');
      expect(failed.exitCode).toBe(1);
      // A failed night has a report of its own, saying what failed (tests/e2e/failed-night-report.test.ts).
      const failedReport = path.join(stateDir, 'results', 'reports', 'run=2026-11-25', 'report.html');
      expect(failed.stdout).toContain(`report:            ${failedReport}`);
      expect(readFileSync(failedReport, 'utf8')).toContain('sensors page 2');

      const listed = await runEtl(['runs', '--state-dir', stateDir, '--json']);
      expect(listed.exitCode).toBe(0);
      const { runs } = RunsSchema.parse(JSON.parse(listed.stdout));
      expect(runs.map((r) => [r.runId, r.status])).toEqual([
        ['2026-11-24', 'succeeded'],
        ['2026-11-25', 'failed'],
      ]);
      const [good, bad] = runs;
      expect(good).toMatchObject({
        window: { from: '2026-11-24T00:00:00.000Z', to: '2026-11-25T00:00:00.000Z', timeZone: 'UTC' },
        datasets: {
          vehicles: { plannedPages: 1, storedPages: 1, rows: 5, quarantinedRows: 0, outsideWindowRows: 0 },
          sensors: { quarantinedRows: 0 },
        },
        attempts: 1,
        failures: [],
        report: path.join(stateDir, 'results', 'reports', 'run=2026-11-24', 'report.html'),
      });
      const goodSensors = good?.datasets.sensors;
      expect(goodSensors?.plannedPages).toBeGreaterThan(1);
      expect(goodSensors?.storedPages).toBe(goodSensors?.plannedPages);
      expect(goodSensors?.rows).toBeGreaterThan(20);
      expect(good?.unknownVehicleReadings).toEqual(expect.any(Number));
      expect(good?.durationMs).toEqual(expect.any(Number));
      expect(bad).toMatchObject({ status: 'failed', attempts: 1, report: failedReport });
      const badSensors = bad?.datasets.sensors;
      expect(badSensors?.plannedPages).toBeGreaterThan(1);
      // Every page but the failing one is stored.
      expect(badSensors?.storedPages).toBe((badSensors?.plannedPages ?? 0) - 1);
      expect(bad?.failures).toEqual([expect.stringMatching(/^downloader: sensors page 2: .*always fails/)]);

      const table = await runEtl(['runs', '--state-dir', stateDir]);
      expect(table.exitCode).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe(`2 night(s) in ${stateDir}`);
      expect(lines[1]).toMatch(
        /^run +window +status +pages +rows +quarantined +dropped +duration +report \/ failure$/,
      );
      const pages = (night: (typeof runs)[number] | undefined) => {
        const datasets = Object.values(night?.datasets ?? {});
        const stored = datasets.reduce((n, d) => n + d.storedPages, 0);
        return `${stored}/${datasets.reduce((n, d) => n + (d.plannedPages ?? 0), 0)}`;
      };
      expect(lines[3]).toMatch(
        new RegExp(`^2026-11-24 +2026-11-24 UTC +succeeded +${pages(good)} .*report\\.html$`),
      );
      expect(lines[4]).toMatch(
        new RegExp(`^2026-11-25 +2026-11-25 UTC +failed +${pages(bad)} .*downloader: sensors page 2: `),
      );
    },
    TIMEOUT,
  );

  it(
    'counts a resumed night as a second attempt, and forgets the failure it got past',
    async () => {
      expect((await run('2026-11-25')).exitCode).toBe(0);
      const listed = await runEtl(['runs', '--state-dir', stateDir, '--run', '2026-11-25', '--json']);
      const { runs } = RunsSchema.parse(JSON.parse(listed.stdout));
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({
        runId: '2026-11-25',
        status: 'succeeded',
        attempts: 2,
        failures: [],
      });
      const sensors = runs[0]?.datasets.sensors;
      expect(sensors?.storedPages).toBe(sensors?.plannedPages);
      expect(runs[0]?.report).toMatch(/run=2026-11-25\/report\.html$/);
    },
    TIMEOUT,
  );

  it(
    'says there is nothing to list in a folder that does not exist, and creates none',
    async () => {
      const missing = path.join(path.dirname(stateDir), 'none');
      const outcome = await runEtl(['runs', '--state-dir', missing, '--json']);
      expect(outcome.exitCode).toBe(0);
      expect(JSON.parse(outcome.stdout)).toEqual({ stateDir: missing, runs: [] });
      expect(existsSync(missing)).toBe(false);
    },
    TIMEOUT,
  );
});
