import * as z from 'zod';
import { defineCommand } from './command-spec.js';
import { jsonFlag, stateDirFlag } from './common-flags.js';

/** The environment variable the stage's Lambdas read the ledger's table name from (services/report/lambda.ts). */
export const LEDGER_TABLE_VARIABLE = 'RUN_LEDGER_TABLE';

/** A DynamoDB table name: 3 to 255 letters, digits, "_", "-" or ".". */
export const ledgerTableName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'expected a DynamoDB table name (3 to 255 letters, digits, _ - .)');

export const runsSpec = defineCommand({
  name: 'runs',
  summary: 'list the nights of a state folder: window, status, pages, rows, losses, duration, report',
  usage: ['[flags]'],
  description: `Every night the state folder holds, oldest first: its window, status (succeeded, failed, or unfinished:
interrupted or running now), pages stored of planned, rows stored, rows quarantined by the row schema,
rows dropped (created outside the window, or readings of vehicles not in vehicles_data), how long its last
attempt took (from its plan to its last event), why it failed, and its report page. Counts come from the run
ledger (state.sqlite); times, stage failures and drops from the event archive. It only reads, and never
waits for the state folder.

With --ledger-table, or RUN_LEDGER_TABLE set in the environment (the variable the stage's Lambdas read),
it lists the nights of a stage's DynamoDB run ledger instead (a Scan of the table; --state-dir is not read).
The stack's output RunLedgerTableName names the table. Credentials and region come from the AWS environment.
The ledger knows the window, status, pages and rows and the pages that failed: quarantined and dropped rows,
attempts, times, duration, stage failures and the report are only in a state folder, null in --json.`,
  flags: {
    'state-dir': stateDirFlag,
    'ledger-table': {
      schema: ledgerTableName.optional(),
      value: 'NAME',
      help: "list a stage's DynamoDB run ledger (stack output RunLedgerTableName) instead of a state folder",
      defaultText: '$RUN_LEDGER_TABLE, else the state folder',
    },
    run: { schema: z.string().min(1).optional(), value: 'ID', help: 'only this run' },
    json: jsonFlag,
  },
  examples: [
    'etl runs --state-dir /var/lib/fleet-etl',
    'etl runs --json | jq \'.runs[] | select(.status != "succeeded")\'',
    'etl runs --ledger-table fleet-etl-prod-RunLedgerTable1234ABCD-XYZ',
  ],
  load: async () => (await import('./runs-command.js')).runsCommand,
});
