import * as z from 'zod';
import { wholeNumber } from './args.js';
import { defineCommand } from './command-spec.js';
import { recordedFleetFlags, stateDirFlag, waitFlag } from './common-flags.js';

/**
 * How long each night's `etl run` waits for another process using the state folder (an `etl run` started by hand,
 * an `etl sql`). Longer than an interactive command's minute: nobody is waiting at a terminal, and a night
 * refused is only run again by hand.
 */
const SCHEDULED_NIGHT_WAIT_SECONDS = 900;

export const scheduleSpec = defineCommand({
  name: 'schedule',
  summary: 'run the nightly schedule (01:00 UTC) on this machine, catching up missed nights',
  usage: ['[flags]'],
  description: `Fires the topology's schedule expression (the one the CDK app deploys) at its UTC times; each
firing runs that night as etl run --date does, in a child process. Missed nights are caught up oldest first
(at most --catch-up; older ones are named, not run). --once runs what is due and exits, for cron or a
systemd timer; a failed night then makes it exit 1.`,
  flags: {
    'state-dir': stateDirFlag,
    'catch-up': {
      schema: wholeNumber(0, 366).default(7),
      value: 'N',
      help: 'catch up at most N missed nights',
    },
    once: { schema: z.boolean().default(false), help: 'run the nights that are due, then exit' },
    source: {
      schema: z.string().min(1).optional(),
      value: 'FILE',
      help: 'the API to pull from, described in a JSON file',
      defaultText: 'the built-in simulator',
    },
    'page-size': {
      schema: wholeNumber(1, 50_000).optional(),
      value: 'N',
      help: 'rows per page asked of the API',
      defaultText: "etl run's",
    },
    ...recordedFleetFlags,
    wait: waitFlag(SCHEDULED_NIGHT_WAIT_SECONDS),
  },
  examples: ['etl schedule --once --state-dir /var/lib/fleet-etl'],
  load: async () => (await import('./schedule-command.js')).scheduleCommand,
});
