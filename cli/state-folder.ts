import { acquireStateLock, type StateLock } from '../local/state-lock/index.js';
import { wholeNumber } from './args.js';

/**
 * How long a command waits for another process to finish with its state folder. A night runs for seconds to a
 * few minutes; a minute covers a short run without leaving a mistaken second command waiting in silence.
 */
export const DEFAULT_WAIT_SECONDS = 60;

/** `--wait SECONDS`: 0 refuses at once, at most a day. */
export const waitSeconds = (defaultSeconds = DEFAULT_WAIT_SECONDS) =>
  wholeNumber(0, 86_400).default(defaultSeconds);

/** Takes the state folder for this command, telling the user on stderr when it waits or takes over a lock. */
export function holdStateFolder(
  stateDir: string,
  argv: readonly string[],
  seconds: number,
  why?: string,
): Promise<StateLock> {
  return acquireStateLock({
    stateDir,
    command: commandLine(argv),
    waitMs: seconds * 1000,
    ...(why === undefined ? {} : { why }),
    report: (line) => process.stderr.write(`etl: ${line}\n`),
  });
}

/** `etl run --date 2026-11-24`, shortened: `etl sql` text can be long. */
function commandLine(argv: readonly string[]): string {
  const quoted = argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg)));
  const line = ['etl', ...quoted].join(' ');
  return line.length <= 160 ? line : `${line.slice(0, 159)}…`;
}
