import { TransientError } from '../../services/shared/errors.js';
import { describeHolder, type LockRecord } from './lock-record.js';

/**
 * Another live process holds the state folder and did not let go within the wait. Transient: the same command
 * succeeds once that process has finished.
 */
export class StateFolderBusyError extends TransientError {
  override readonly name = 'StateFolderBusyError';

  constructor(
    readonly stateDir: string,
    readonly holder: LockRecord,
    /** How long the process was willing to wait (--wait); 0 when it refused at once. */
    readonly waitMs: number,
    readonly why: string | undefined,
  ) {
    super(
      `${stateDir} is in use by ${describeHolder(holder)}` +
        (why === undefined ? '' : `; ${why}`) +
        (waitMs > 0 ? `; gave up after waiting ${(waitMs / 1000).toFixed(waitMs < 10_000 ? 1 : 0)} s` : '') +
        '. Run the command again once it has finished, or give --wait SECONDS to wait longer.',
    );
  }
}

/** The lock file is there but cannot be read as a lock: something other than etl wrote it. */
export class StateLockUnreadableError extends Error {
  override readonly name = 'StateLockUnreadableError';
}
