import { describeError, TerminalError, TransientError } from '../../../shared/errors.js';

/** The statement is valid Athena SQL, but the local bridge does not implement it. */
export class UnsupportedStatementError extends TerminalError {
  override readonly name: string = 'UnsupportedStatementError';
}

/** The statement would read or write outside what the local engine's sandbox allows (duckdb-sandbox.ts). */
export class SandboxError extends TerminalError {
  override readonly name: string = 'SandboxError';
}

/**
 * The statement breaks a rule Athena enforces (a partition column not last, a CTAS into a non-empty
 * location, more than 100 partitions written...). The bridge fails locally where Athena would fail in AWS,
 * with Athena's error code in the message, so the problem is found before deployment.
 */
export class AthenaRuleError extends TerminalError {
  override readonly name: string = 'AthenaRuleError';
}

/**
 * A table of an older layout could not be moved to the current one when the state folder was opened
 * (warehouse-migration.ts). Nothing is lost: the files not yet moved are where they were, and the next open goes on.
 */
export class WarehouseMigrationError extends TerminalError {
  override readonly name: string = 'WarehouseMigrationError';
}

/** DuckDB refused or failed the translated statement. */
export class LocalQueryError extends TerminalError {
  override readonly name: string = 'LocalQueryError';
}

class LocalQueryBusyError extends TransientError {
  override readonly name: string = 'LocalQueryBusyError';
}

/** DuckDB failures that can pass if retried; anything else is a fault in the SQL or the data. */
const TRANSIENT_DUCKDB_FAILURES: readonly RegExp[] = [/Could not set lock on file/i, /Conflicting lock/i];

export function localQueryFailure(where: string, error: unknown): Error {
  // The bridge's own errors already name the table and the rule; they keep their class.
  if (error instanceof TerminalError || error instanceof TransientError) {
    return error;
  }
  // DuckDB's errors come from native code, possibly from another realm (jest): read them structurally.
  const message = describeError(error);
  const text = `${where}: ${message}`;
  if (TRANSIENT_DUCKDB_FAILURES.some((pattern) => pattern.test(message))) {
    return new LocalQueryBusyError(text, { cause: error });
  }
  return new LocalQueryError(text, { cause: error });
}
