export { StateFolderBusyError, StateLockUnreadableError } from './errors.js';
export { type LockRecord, LockRecordSchema } from './lock-record.js';
export { acquireStateLock, type StateLock, type StateLockOptions, stateLockFile } from './state-lock.js';
