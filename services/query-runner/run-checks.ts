import type { ResultSet } from '../ports/query-engine.js';
import { TerminalError } from '../shared/errors.js';

/**
 * SQL files that are checks rather than answers: a file whose query name starts with `check_`
 * (`15_check_repeated_rows.sql`) must return no rows. Rows are what it found wrong, and the run fails there,
 * before the files after it write anything, naming the file and the first rows. Analysts add a data-quality gate
 * by adding a file.
 */
export function isCheck(queryName: string): boolean {
  return queryName.startsWith('check_');
}

/** How many of the found rows the failure quotes: enough to start looking, short enough for an event. */
const QUOTED_ROWS = 3;

export function failedCheck(file: string, result: ResultSet | undefined): TerminalError | undefined {
  if (result === undefined) {
    return new TerminalError(
      `${file} is a check (check_ in its name) but its last statement returns no result set`,
    );
  }
  if (result.rows.length === 0) return undefined;
  const quoted = result.rows.slice(0, QUOTED_ROWS).map((row) => JSON.stringify(row));
  const more = result.rows.length > QUOTED_ROWS ? `, and ${result.rows.length - QUOTED_ROWS} more` : '';
  return new TerminalError(
    `check failed: ${result.rows.length} row(s) that must not exist: ${quoted.join('; ')}${more}`,
  );
}
