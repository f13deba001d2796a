import * as z from 'zod';
import { defineCommand } from './command-spec.js';
import { jsonFlag, stateDirFlag } from './common-flags.js';

export const runsSpec = defineCommand({
  name: 'runs',
  summary: 'list the nights of a state folder: window, status, pages, rows, losses, duration, report',
  usage: ['[flags]'],
  description: `Every night the state folder holds, oldest first: its window, status (succeeded, failed, or unfinished:
interrupted or running now), pages stored of planned, rows stored, rows quarantined by the row schema,
rows dropped (created outside the window, or readings of vehicles not in vehicles_data), how long its last
attempt took (from its plan to its last event), why it failed, and its report page. Counts come from the run
ledger (state.sqlite); times, stage failures and drops from the event archive. It only reads, and never
waits for the state folder.`,
  flags: {
    'state-dir': stateDirFlag,
    run: { schema: z.string().min(1).optional(), value: 'ID', help: 'only this run' },
    json: jsonFlag,
  },
  examples: [
    'etl runs --state-dir /var/lib/fleet-etl',
    'etl runs --json | jq \'.runs[] | select(.status != "succeeded")\'',
  ],
  load: async () => (await import('./runs-command.js')).runsCommand,
});
