import * as z from 'zod';
import { defineCommand } from './command-spec.js';
import { jsonFlag, stateDirFlag, waitFlag } from './common-flags.js';
import { ledgerTableName } from './runs-spec.js';

export const DLQ_ACTIONS = ['list', 'redrive'] as const;

export const dlqSpec = defineCommand({
  name: 'dlq',
  summary: 'list the download tasks that gave up (dead letters), or move them back to the tasks queue',
  usage: ['list [flags]', 'redrive [flags]'],
  description: `list shows each dead-lettered download task with its run, dataset, page, receive count and the
reason the ledger recorded; redrive moves them back to the tasks queue, and the next etl run --date of
their night resumes it. A task whose page was stored since (a resumed night fetched it) is resolved: list
marks it "stored since", and redrive removes it instead of moving it back (etl run removes its own night's
such letters when it ends). With --queue-url DLQ_URL --source-queue-url TASKS_URL it works on the real
queues in AWS (credentials and region from the AWS environment); with --ledger-table too, the stage's run
ledger says which pages are stored since.`,
  flags: {
    'state-dir': stateDirFlag,
    run: { schema: z.string().min(1).optional(), value: 'ID', help: 'only the dead letters of this run' },
    json: jsonFlag,
    'queue-url': { schema: z.url().optional(), value: 'URL', help: 'the dead-letter queue in AWS' },
    'source-queue-url': {
      schema: z.url().optional(),
      value: 'URL',
      help: 'the tasks queue in AWS the dead letters go back to (with --queue-url)',
    },
    'ledger-table': {
      schema: ledgerTableName.optional(),
      value: 'NAME',
      help: "with --queue-url: the stage's DynamoDB run ledger (stack output RunLedgerTableName), to tell the pages stored since",
    },
    wait: waitFlag(),
  },
  operands: DLQ_ACTIONS,
  examples: [
    'etl dlq list --run 2026-11-24',
    'etl dlq redrive --run 2026-11-24 && etl run --date 2026-11-24',
  ],
  load: async () => (await import('./dlq-command.js')).dlqCommand,
});
