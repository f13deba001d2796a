import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as z from 'zod';
import { systemErrorCode } from '../../services/shared/errors.js';

/** What the lock file says about the process that holds the state folder. */
export const LockRecordSchema = z.strictObject({
  pid: z.number().int().positive(),
  hostname: z.string().min(1),
  /** The command line, for the message a waiting process prints: `etl run --date 2026-11-24`. */
  command: z.string(),
  startedAt: z.iso.datetime(),
  /**
   * The kernel's start time of the process (Linux: field 22 of /proc/PID/stat, in clock ticks since boot), so a
   * pid the system has given to another process since is not mistaken for the holder. Null elsewhere.
   */
  processStart: z.string().nullable(),
  /** Unique per acquisition: a process only ever removes the lock it took. */
  token: z.uuid(),
});
export type LockRecord = z.infer<typeof LockRecordSchema>;

interface ProcStat {
  /** R, S, D, Z (zombie: ended, not yet reaped by its parent), X (dead)... */
  state: string;
  start: string;
}

/** `/proc/PID/stat`: undefined when the process does not exist, null where there is no /proc. */
function procStat(pid: number): ProcStat | null | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = systemErrorCode(error);
    if ((code === 'ENOENT' || code === 'ESRCH') && process.platform === 'linux') return undefined;
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces or parentheses: count from the last one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [state, start] = [fields[0], fields[19]];
  return state === undefined || start === undefined ? null : { state, start };
}

/** The kernel's start time of a process (Linux); undefined when it does not exist, null where unknown. */
export function processStartOf(pid: number): string | null | undefined {
  const stat = procStat(pid);
  return stat === undefined || stat === null ? stat : stat.start;
}

export type HolderState = 'alive' | 'gone' | 'unknown';

/**
 * Whether the holder still runs. `unknown` for a lock taken on another host (a state folder on a network
 * share): its process cannot be checked from here, so it is treated as alive.
 */
export function holderState(record: LockRecord): HolderState {
  if (record.hostname !== hostname()) return 'unknown';
  try {
    process.kill(record.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if (systemErrorCode(error) !== 'EPERM') return 'gone';
  }
  const stat = procStat(record.pid);
  if (stat === null) return 'alive';
  // It ended a moment ago; it was killed and its parent has not reaped it yet (kill(pid, 0) still succeeds on a
  // zombie); or another process has the pid now (the holder died and the pid was reused).
  if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return 'gone';
  return record.processStart === null || stat.start === record.processStart ? 'alive' : 'gone';
}

export function describeHolder(record: LockRecord): string {
  const host = record.hostname === hostname() ? '' : ` on ${record.hostname}`;
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(record.startedAt)) / 1000));
  return `\`${record.command}\` (pid ${record.pid}${host}, since ${record.startedAt}, ${seconds} s ago)`;
}
