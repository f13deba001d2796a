import { UsageError } from './args.js';
import { renderCommandHelp } from './command-spec.js';
import { COMMANDS, findCommand } from './commands.js';

/** `etl`, `etl help`, `etl --help`: what etl is, its commands, and what holds for all of them. */
export function renderOverview(): string {
  const width = Math.max(...COMMANDS.map((spec) => spec.name.length));
  return `fleet-etl: the nightly fleet ETL, on this machine

Usage:
  etl <command> [flags]
  etl <command> --help     the command's usage, flags with their defaults, and an example
  etl --version

Commands:
${COMMANDS.map((spec) => `  ${spec.name.padEnd(width)}  ${spec.summary}`).join('\n')}

One etl process works on a state folder at a time (<state-dir>/etl.lock): run, sql, replay and
dlq redrive wait for the one using it up to --wait SECONDS (default 60; 900 for the nights
etl schedule runs), saying so, then exit 2 naming it; --wait 0 refuses at once. The lock of a
process that is gone (killed) is taken over.
Exit codes: 0 done; 1 failed, with the reasons on stderr; 2 a usage error, or the state folder
stayed in use by another process.
`;
}

/** `etl help [COMMAND]`. */
export async function helpCommand(argv: readonly string[]): Promise<number> {
  const [name, ...extra] = argv;
  if (extra.length > 0) throw new UsageError('etl help takes at most one command');
  if (name === undefined) {
    process.stdout.write(renderOverview());
    return 0;
  }
  const spec = findCommand(name);
  if (spec === undefined) throw new UsageError(`unknown command "${name}"`);
  process.stdout.write(renderCommandHelp(spec));
  return 0;
}
