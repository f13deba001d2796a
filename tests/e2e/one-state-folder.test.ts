import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { stateLockFile } from '../../local/state-lock/index.js';
import { topology } from '../../services/topology.js';
import {
  type EtlOutcome,
  type EtlProcess,
  lastJsonLine,
  runEtl,
  startEtl,
  stderrShows,
} from '../helpers/etl-process.js';

/**
 * Several real `etl` processes on one state folder: the second one waits for the first (bounded by --wait) or is
 * refused with exit 2 naming it; a lock left by a process killed with SIGKILL is taken over; nothing hangs.
 */

const DAY = '2026-11-24';
const NEXT_DAY = '2026-11-25';
/** Ten sensor pages; the same fleet for every run into a folder (simulator.json refuses another). */
const FLEET = ['--vehicles', '50', '--readings', '200', '--page-size', '500'];
/** About 15 s of downloading: long enough for the other processes to start while it runs. */
const SLOW = ['--latency', '1500', '--concurrency', '1'];
const SUITE_TIMEOUT_MS = 240_000;

const RunJsonSchema = z.object({
  runId: z.string(),
  status: z.enum(['succeeded', 'failed']),
  datasets: z.record(z.string(), z.object({ pages: z.number(), rows: z.number() })),
  failures: z.array(z.string()),
});
const SqlJsonSchema = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.record(z.string(), z.unknown())),
});

const holderNamed = (pid: number | undefined) =>
  new RegExp(
    `in use by \`etl run --date ${DAY} --state-dir \\S+ ${FLEET.join(' ')} .*\\(pid ${pid}, since \\S+Z, \\d+ s ago\\)`,
  );

describe('a second etl process on the state folder of a running etl run', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'etl-one-folder-'));
  let holder: EtlProcess;
  let holderDone: EtlOutcome;
  let refusedRun: EtlOutcome;
  let refusedSql: EtlOutcome;
  let refusedSchedule: EtlOutcome;
  let refusedWithinMs: number;
  let waitingRun: EtlOutcome;
  let waitingSql: EtlOutcome;

  beforeAll(async () => {
    holder = startEtl(['run', '--date', DAY, '--state-dir', stateDir, ...FLEET, ...SLOW, '--json']);
    await stderrShows(holder, /planned sensors/);
    // A schedule started 30 hours ago that never fired: one firing is due, as under cron after a missed night.
    writeFileSync(
      path.join(stateDir, 'schedule.json'),
      JSON.stringify({
        expression: topology.services.planner.trigger.expression,
        since: new Date(Date.now() - 30 * 3_600_000).toISOString(),
        history: [],
      }),
    );
    const started = Date.now();
    const refusals = Promise.all([
      runEtl(['run', '--date', NEXT_DAY, '--state-dir', stateDir, ...FLEET, '--wait', '0']),
      runEtl(['sql', 'SELECT 1 AS one', '--state-dir', stateDir, '--wait', '0']),
      runEtl(['schedule', '--once', '--state-dir', stateDir, ...FLEET, '--wait', '0']),
    ]).then((outcomes) => {
      refusedWithinMs = Date.now() - started;
      return outcomes;
    });
    const waiters = Promise.all([
      runEtl(['run', '--date', NEXT_DAY, '--state-dir', stateDir, ...FLEET, '--wait', '180', '--json']),
      runEtl([
        'sql',
        'SELECT count(*) AS n FROM fleet_etl.sensor_data',
        '--state-dir',
        stateDir,
        '--wait',
        '180',
        '--json',
      ]),
    ]);
    [refusedRun, refusedSql, refusedSchedule] = await refusals;
    [waitingRun, waitingSql] = await waiters;
    holderDone = await holder.outcome;
  }, SUITE_TIMEOUT_MS);

  it('refuses a second etl run --wait 0 at once with exit 2, naming the holder’s command, pid and start', () => {
    expect(refusedRun.timedOut).toBe(false);
    expect(refusedRun.exitCode).toBe(2);
    expect(refusedRun.stderr).toMatch(holderNamed(holder.child.pid));
    expect(refusedRun.stderr).toMatch(/Run the command again once it has finished, or give --wait SECONDS/);
    expect(refusedWithinMs).toBeLessThan(30_000);
  });

  it('refuses etl sql --wait 0, saying why it cannot read beside the run', () => {
    expect(refusedSql.exitCode).toBe(2);
    expect(refusedSql.stderr).toMatch(holderNamed(holder.child.pid));
    expect(refusedSql.stderr).toMatch(
      /DuckDB lets no other process open warehouse\.duckdb while one has it open/,
    );
  });

  it('ends etl schedule --once with exit 1: its night was refused, not hung', () => {
    expect(refusedSchedule.exitCode).toBe(1);
    expect(refusedSchedule.stderr).toMatch(holderNamed(holder.child.pid));
    expect(refusedSchedule.stderr).toMatch(
      /night \S+ failed: etl run exited with 2: the state folder stayed in use by another process/,
    );
  });

  it('lets a waiting etl run and etl sql go on once the first run has finished, each saying it waited', () => {
    expect(holderDone.exitCode).toBe(0);
    expect(RunJsonSchema.parse(lastJsonLine(holderDone.stdout)).status).toBe('succeeded');

    expect(waitingRun.stderr).toMatch(/Waiting up to \d+ s for it to finish \(--wait SECONDS changes this/);
    expect(waitingRun.stderr).toMatch(/is free again after \d+(\.\d)? s; going on/);
    expect(waitingRun.exitCode).toBe(0);
    expect(RunJsonSchema.parse(lastJsonLine(waitingRun.stdout))).toMatchObject({
      runId: NEXT_DAY,
      status: 'succeeded',
    });

    expect(waitingSql.stderr).toMatch(/Waiting up to \d+ s for it to finish/);
    expect(waitingSql.exitCode).toBe(0);
    const count = SqlJsonSchema.parse(lastJsonLine(waitingSql.stdout)).rows[0]?.n;
    expect(Number(count)).toBeGreaterThan(0);
  });

  it('leaves no lock behind', () => {
    expect(existsSync(stateLockFile(stateDir))).toBe(false);
  });
});

describe('etl run after the folder’s run was killed with SIGKILL', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'etl-killed-holder-'));
  let victimPid: number | undefined;
  let next: EtlOutcome;

  beforeAll(async () => {
    const victim = startEtl(['run', '--date', DAY, '--state-dir', stateDir, ...FLEET, ...SLOW]);
    victimPid = victim.child.pid;
    await stderrShows(victim, /stored sensors page/);
    victim.child.kill('SIGKILL');
    await victim.outcome;
    expect(existsSync(stateLockFile(stateDir))).toBe(true);
    next = await runEtl(['run', '--date', DAY, '--state-dir', stateDir, ...FLEET, '--wait', '0', '--json']);
  }, SUITE_TIMEOUT_MS);

  it('takes over the dead holder’s lock, saying whose it was, and resumes the night', () => {
    expect(next.stderr).toMatch(
      new RegExp(
        `taking over \\S+etl\\.lock: its holder \`etl run --date ${DAY} .*\\(pid ${victimPid},.* is gone`,
      ),
    );
    expect(next.stderr).toMatch(/resuming run 2026-11-24: [1-9]\d* page\(s\) already stored/);
    expect(next.exitCode).toBe(0);
    const json = RunJsonSchema.parse(lastJsonLine(next.stdout));
    expect(json.status).toBe('succeeded');
    expect(json.datasets.sensors?.pages).toBe(10);
    expect(existsSync(stateLockFile(stateDir))).toBe(false);
  });
});

describe('etl run when a process that is not etl holds the warehouse open', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'etl-duckdb-held-'));
  let outcome: EtlOutcome;

  beforeAll(async () => {
    // Another DuckDB client (a notebook, the duckdb shell) with the file open; it ends by itself after a minute.
    const other = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { DuckDBInstance } from '@duckdb/node-api';
         const db = await DuckDBInstance.create(${JSON.stringify(path.join(stateDir, 'warehouse.duckdb'))});
         await db.connect();
         process.stdout.write('open\\n');
         setTimeout(() => process.exit(0), 60_000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => other.stdout.once('data', () => resolve()));
    try {
      outcome = await runEtl(
        ['run', '--date', DAY, '--state-dir', stateDir, ...FLEET, '--wait', '0', '--json'],
        {
          timeoutMs: 60_000,
        },
      );
    } finally {
      other.kill('SIGTERM');
    }
  }, SUITE_TIMEOUT_MS);

  it('exits 1 naming the warehouse DuckDB could not open, instead of hanging with the simulator running', () => {
    expect(outcome.timedOut).toBe(false);
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toMatch(/etl: cannot open the warehouse \S+warehouse\.duckdb: .*lock/);
    // --json still ends with the run's JSON line, failed, with the reason.
    const last: unknown = JSON.parse(outcome.stdout.trim().split('\n').at(-1) ?? '');
    expect(last).toEqual({
      runId: DAY,
      status: 'failed',
      window: expect.objectContaining({ timeZone: 'UTC' }),
      failures: [expect.stringMatching(/^cannot open the warehouse \S+warehouse\.duckdb: .*lock/)],
    });
  });
});
