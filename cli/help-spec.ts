import { defineCommand } from './command-spec.js';

export const helpSpec = defineCommand({
  name: 'help',
  summary: 'show the commands, or one command’s usage, flags and an example',
  usage: ['[COMMAND]'],
  description: `Without a command, lists the commands; with one, prints what etl COMMAND --help prints.`,
  flags: {},
  examples: ['etl help run'],
  load: async () => (await import('./help-command.js')).helpCommand,
});
