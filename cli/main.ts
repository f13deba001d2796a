import { StateFolderBusyError, StateLockUnreadableError } from '../local/state-lock/index.js';
import { describeError } from '../services/shared/errors.js';
import { UsageError } from './args.js';
import { asksForHelp, type CommandSpec, renderCommandHelp, renderUsageHint } from './command-spec.js';
import { COMMANDS, findCommand } from './commands.js';
import { renderOverview } from './help-command.js';
import { etlVersion } from './version.js';

/**
 * Entry point of the `etl` command; returns the process exit code. The commands are declared in commands.ts; each
 * one's module loads when it runs: `etl sql` alone brings DuckDB and the WebAssembly SQL transpiler (about 1.5 s),
 * which `etl run` loads on its own while the simulator's thread starts, and help needs neither.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  let spec: CommandSpec | undefined;
  try {
    switch (command) {
      case undefined:
        // No command is a usage error, but what it needs is the overview.
        process.stderr.write(renderOverview());
        return 2;
      case '--help':
      case '-h':
        process.stdout.write(renderOverview());
        return 0;
      case '--version':
      case '-v':
        process.stdout.write(`${etlVersion()}\n`);
        return 0;
    }
    spec = findCommand(command);
    if (spec === undefined) throw new UsageError(`unknown command "${command}"`);
    if (asksForHelp(rest)) {
      process.stdout.write(renderCommandHelp(spec));
      return 0;
    }
    return await (await spec.load())(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      const hint =
        spec === undefined
          ? `Commands: ${COMMANDS.map((c) => c.name).join(', ')}. Run "etl help" for what each does.\n`
          : renderUsageHint(spec);
      process.stderr.write(`etl: ${error.message}\n\n${hint}`);
      return 2;
    }
    // Another process has the state folder: nothing was done, and the same command works once it has finished.
    if (error instanceof StateFolderBusyError || error instanceof StateLockUnreadableError) {
      process.stderr.write(`etl: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`etl: ${describeError(error)}\n`);
    return 1;
  }
}
