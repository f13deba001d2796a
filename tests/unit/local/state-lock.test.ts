import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import {
  acquireStateLock,
  type LockRecord,
  LockRecordSchema,
  StateFolderBusyError,
  type StateLockOptions,
  StateLockUnreadableError,
  stateLockFile,
} from '../../../local/state-lock/index.js';

const freshStateDir = () => mkdtempSync(path.join(tmpdir(), 'state-lock-'));

/** Options for one acquisition, collecting what it reports. */
function lockOptions(stateDir: string, overrides: Partial<StateLockOptions> = {}) {
  const reports: string[] = [];
  const options: StateLockOptions = {
    stateDir,
    command: 'etl run --date 2026-11-24',
    waitMs: 0,
    report: (line) => reports.push(line),
    pollMs: 20,
    ...overrides,
  };
  return { options, reports };
}

/** A lock record as another process would have written it. */
function holderRecord(overrides: Partial<LockRecord> = {}): LockRecord {
  return {
    pid: process.pid,
    hostname: hostname(),
    command: 'etl run --date 2026-11-23',
    startedAt: new Date(Date.now() - 30_000).toISOString(),
    processStart: null,
    token: randomUUID(),
    ...overrides,
  };
}

const writeLock = (stateDir: string, record: LockRecord) =>
  writeFileSync(stateLockFile(stateDir), `${JSON.stringify(record)}\n`);

const readLock = (stateDir: string) =>
  LockRecordSchema.parse(JSON.parse(readFileSync(stateLockFile(stateDir), 'utf8')));

/** The pid of a process that has ended (and been reaped). */
function pidOfAnEndedProcess(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('acquireStateLock', () => {
  it('creates the lock with this process’s record and removes it on release', async () => {
    const stateDir = freshStateDir();
    const { options } = lockOptions(stateDir);

    const lock = await acquireStateLock(options);

    expect(readLock(stateDir)).toEqual(lock.record);
    expect(lock.record).toMatchObject({ pid: process.pid, command: 'etl run --date 2026-11-24' });
    lock.release();
    lock.release();
    expect(existsSync(stateLockFile(stateDir))).toBe(false);
    // No temporary file is left beside it.
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('refuses at once with --wait 0, naming the holder’s pid, command and start', async () => {
    const stateDir = freshStateDir();
    const holder = holderRecord();
    writeLock(stateDir, holder);

    const attempt = acquireStateLock(lockOptions(stateDir, { why: 'DuckDB says so' }).options);

    await expect(attempt).rejects.toThrow(StateFolderBusyError);
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `in use by \`etl run --date 2026-11-23\` \\(pid ${process.pid}, since ${holder.startedAt}, 30 s ago\\); DuckDB says so\\. Run the command again`,
      ),
    );
    expect(readLock(stateDir)).toEqual(holder);
  });

  it('waits for a live holder, says so once, and goes on when it lets go', async () => {
    const stateDir = freshStateDir();
    const first = await acquireStateLock(lockOptions(stateDir).options);
    const { options, reports } = lockOptions(stateDir, { waitMs: 10_000 });
    setTimeout(() => first.release(), 300);

    const second = await acquireStateLock(options);

    expect(readLock(stateDir).token).toBe(second.record.token);
    expect(reports).toEqual([
      expect.stringMatching(/is in use by .*pid \d+.*Waiting up to \d+(\.\d)? s for it to finish/),
      expect.stringMatching(/is free again after \d+\.\d s; going on/),
    ]);
    second.release();
  });

  it('gives up after the wait, saying how long it waited', async () => {
    const stateDir = freshStateDir();
    writeLock(stateDir, holderRecord());
    const started = Date.now();

    await expect(acquireStateLock(lockOptions(stateDir, { waitMs: 300 }).options)).rejects.toThrow(
      /gave up after waiting 0\.3 s/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('takes over the lock of a process that has ended, and says whose it was', async () => {
    const stateDir = freshStateDir();
    const dead = holderRecord({ pid: pidOfAnEndedProcess() });
    writeLock(stateDir, dead);
    const { options, reports } = lockOptions(stateDir);

    const lock = await acquireStateLock(options);

    expect(readLock(stateDir).token).toBe(lock.record.token);
    expect(reports).toEqual([
      `taking over ${stateLockFile(stateDir)}: its holder \`etl run --date 2026-11-23\` (pid ${dead.pid}, since ${dead.startedAt}, 30 s ago) is gone`,
    ]);
    lock.release();
  });

  it('takes over a lock whose pid now belongs to another process (its start time differs)', async () => {
    const stateDir = freshStateDir();
    writeLock(stateDir, holderRecord({ pid: process.pid, processStart: '1' }));

    const lock = await acquireStateLock(lockOptions(stateDir).options);

    expect(readLock(stateDir).token).toBe(lock.record.token);
    lock.release();
  });

  it('treats a lock taken on another host as held: its process cannot be checked from here', async () => {
    const stateDir = freshStateDir();
    writeLock(stateDir, holderRecord({ pid: pidOfAnEndedProcess(), hostname: 'another-host.example' }));

    await expect(acquireStateLock(lockOptions(stateDir).options)).rejects.toThrow(
      /pid \d+ on another-host\.example/,
    );
  });

  it('refuses a lock file etl did not write, naming it', async () => {
    const stateDir = freshStateDir();
    writeFileSync(stateLockFile(stateDir), 'locked by hand\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(stateLockFile(stateDir), old, old);

    const attempt = acquireStateLock(lockOptions(stateDir).options);

    await expect(attempt).rejects.toThrow(StateLockUnreadableError);
    await expect(attempt).rejects.toThrow(`${stateLockFile(stateDir)} is there but is not a lock etl wrote`);
  });

  it('never removes a lock another process holds now, even on its own release', async () => {
    const stateDir = freshStateDir();
    const lock = await acquireStateLock(lockOptions(stateDir).options);
    const successor = holderRecord();
    // What a takeover by another process looks like from here: the lock is someone else's.
    writeLock(stateDir, successor);

    lock.release();

    expect(readLock(stateDir)).toEqual(successor);
  });
});
