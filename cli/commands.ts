import type { CommandSpec } from './command-spec.js';
import { completionSpec } from './completion-spec.js';
import { dlqSpec } from './dlq-spec.js';
import { eventsSpec } from './events-spec.js';
import { helpSpec } from './help-spec.js';
import { replaySpec } from './replay-spec.js';
import { runSpec } from './run-spec.js';
import { runsSpec } from './runs-spec.js';
import { scheduleSpec } from './schedule-spec.js';
import { simSpec } from './sim-spec.js';
import { sqlSpec } from './sql-spec.js';
import { twinSpec } from './twin-spec.js';

/**
 * Every `etl` command, in the order `etl help` lists them. Parsing, `--help`, `etl help` and shell completion all
 * read this list: a command is added by declaring it in `<name>-spec.ts` (flags, usage, an example, and the
 * loader of its `<name>-command.ts`) and adding it here.
 */
export const COMMANDS: readonly CommandSpec[] = [
  runSpec,
  runsSpec,
  scheduleSpec,
  simSpec,
  sqlSpec,
  eventsSpec,
  replaySpec,
  dlqSpec,
  twinSpec,
  completionSpec,
  helpSpec,
];

/** The declaration of `name`, or undefined for a word that is not a command. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((spec) => spec.name === name);
}
