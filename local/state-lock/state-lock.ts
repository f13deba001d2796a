import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemErrorCode } from '../../services/shared/errors.js';
import { StateFolderBusyError, StateLockUnreadableError } from './errors.js';
import {
  describeHolder,
  holderState,
  type LockRecord,
  LockRecordSchema,
  processStartOf,
} from './lock-record.js';

/**
 * One writer per state folder (docs/decisions/0071-one-writer-per-state-folder.md). DuckDB lets one process open
 * warehouse.duckdb at a time, and the run ledger, the queue and the lake assume one runtime works on them: a
 * second process waits for the first, up to a bound, or is refused naming the holder.
 */

export interface StateLockOptions {
  stateDir: string;
  /** The holder's command line, shown to the processes that wait for it. */
  command: string;
  /** How long to wait for a live holder; 0 refuses at once. */
  waitMs: number;
  /** Why this command cannot share the folder, added to the busy message. */
  why?: string;
  /** One line per event worth telling the user: waiting, free again, a dead holder's lock taken over. */
  report: (line: string) => void;
  /** How often a waiting process looks at the lock again. */
  pollMs?: number;
}

export interface StateLock {
  readonly file: string;
  readonly record: LockRecord;
  /** Removes the lock if it is still this process's; idempotent. Also done at process exit. */
  release(): void;
}

export const stateLockFile = (stateDir: string): string => path.join(path.resolve(stateDir), 'etl.lock');

/** An unreadable lock younger than this may be one being written (the fallback path without hard links). */
const UNREADABLE_GRACE_MS = 5_000;

export async function acquireStateLock(options: StateLockOptions): Promise<StateLock> {
  const file = stateLockFile(options.stateDir);
  mkdirSync(path.dirname(file), { recursive: true });
  const record = recordOfThisProcess(options.command);
  const pollMs = options.pollMs ?? 200;
  const started = Date.now();
  let waitingFor: string | undefined;
  for (;;) {
    const holder = tryCreate(file, record);
    if (holder === 'created') {
      if (waitingFor !== undefined) {
        options.report(
          `${options.stateDir} is free again after ${seconds(Date.now() - started)} s; going on`,
        );
      }
      return held(file, record);
    }
    if (holder === 'vanished') continue;
    if (holder === 'being-written') {
      // Only on a file system without hard links, for a moment; currentHolder gives up after the grace period.
      await sleep(pollMs);
      continue;
    }
    if (holderState(holder) === 'gone' && breakStaleLock(file, holder)) {
      options.report(`taking over ${file}: its holder ${describeHolder(holder)} is gone`);
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= options.waitMs) {
      throw new StateFolderBusyError(options.stateDir, holder, options.waitMs, options.why);
    }
    if (waitingFor !== holder.token) {
      waitingFor = holder.token;
      options.report(
        `${options.stateDir} is in use by ${describeHolder(holder)}` +
          (options.why === undefined ? '' : `; ${options.why}`) +
          `. Waiting up to ${seconds(options.waitMs - waited)} s for it to finish ` +
          '(--wait SECONDS changes this; --wait 0 refuses at once)',
      );
    }
    await sleep(Math.min(pollMs, options.waitMs - waited));
  }
}

function recordOfThisProcess(command: string): LockRecord {
  return {
    pid: process.pid,
    hostname: hostname(),
    command,
    startedAt: new Date().toISOString(),
    processStart: processStartOf(process.pid) ?? null,
    token: randomUUID(),
  };
}

function held(file: string, record: LockRecord): StateLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    // Only this process's own lock: after a takeover (this process was judged gone) it may be another's.
    if (readRecord(file)?.token === record.token) rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { file, record, release };
}

type Holder = LockRecord | 'created' | 'vanished' | 'being-written';

/**
 * Creates the lock with its whole content at once: the record goes to a file of this process's, which is then
 * hard-linked to the lock's name. link(2) fails with EEXIST if the name exists, so exactly one process creates
 * the lock, and no process ever reads a half-written one.
 */
function tryCreate(file: string, record: LockRecord): Holder {
  const text = `${JSON.stringify(record)}\n`;
  const temporary = `${file}.${record.token}.tmp`;
  writeFileSync(temporary, text, { flag: 'wx' });
  try {
    linkSync(temporary, file);
    return 'created';
  } catch (error) {
    const code = systemErrorCode(error);
    if (code === 'EEXIST') return currentHolder(file);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
    // A file system without hard links: O_EXCL create, then write (a reader may see it empty for a moment).
    try {
      writeFileSync(file, text, { flag: 'wx' });
      return 'created';
    } catch (fallbackError) {
      if (systemErrorCode(fallbackError) === 'EEXIST') return currentHolder(file);
      throw fallbackError;
    }
  } finally {
    rmSync(temporary, { force: true });
  }
}

function currentHolder(file: string): Holder {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return 'vanished';
    throw error;
  }
  const parsed = parseRecord(text);
  if (parsed !== undefined) return parsed;
  let age: number;
  try {
    age = Date.now() - statSync(file).mtimeMs;
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return 'vanished';
    throw error;
  }
  if (age < UNREADABLE_GRACE_MS) return 'being-written';
  throw new StateLockUnreadableError(unreadableMessage(file));
}

function readRecord(file: string): LockRecord | undefined {
  try {
    return parseRecord(readFileSync(file, 'utf8'));
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const parsed = LockRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the lock of a holder that is gone. Two processes may find the same dead holder; each must remove that
 * lock only, never the one the other has just created in its place. So removing is done under a second lock
 * file (`.break`, created with O_EXCL), and the lock is read again under it: only if it is still the dead
 * holder's is it removed. A `.break` left by a process that died while breaking is removed once its process
 * is gone. Returns whether this process removed the lock.
 */
function breakStaleLock(file: string, stale: LockRecord): boolean {
  const breaker = `${file}.break`;
  const mine = recordOfThisProcess('removing a dead holder’s lock');
  try {
    writeFileSync(breaker, `${JSON.stringify(mine)}\n`, { flag: 'wx' });
  } catch (error) {
    if (systemErrorCode(error) !== 'EEXIST') throw error;
    const other = readRecord(breaker);
    if (other !== undefined && holderState(other) === 'gone') rmSync(breaker, { force: true });
    return false;
  }
  try {
    if (readRecord(file)?.token !== stale.token) return false;
    rmSync(file, { force: true });
    return true;
  } finally {
    rmSync(breaker, { force: true });
  }
}

function unreadableMessage(file: string): string {
  return (
    `${file} is there but is not a lock etl wrote; if no etl command is using this state folder, ` +
    'delete that file and run the command again'
  );
}

const seconds = (ms: number): string => (ms / 1000).toFixed(ms < 10_000 ? 1 : 0);
