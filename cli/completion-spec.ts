import { defineCommand } from './command-spec.js';

export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;

export const completionSpec = defineCommand({
  name: 'completion',
  summary: 'print a shell completion script for etl (bash or zsh)',
  usage: ['bash|zsh'],
  description: `Prints a script that completes etl's commands, their flags, the values of flags that take a few
known ones, and file or folder names where a flag takes a FILE or a DIR. It is generated from the same
declarations the commands parse their flags with. Load it in the current shell, or install it:
  bash: source <(etl completion bash)
        or save it as ~/.local/share/bash-completion/completions/etl
  zsh:  source <(etl completion zsh)
        or save it as _etl in a folder of $fpath`,
  flags: {},
  operands: COMPLETION_SHELLS,
  examples: ['etl completion bash > ~/.local/share/bash-completion/completions/etl'],
  load: async () => (await import('./completion-command.js')).completionCommand,
});
