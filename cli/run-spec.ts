import * as z from 'zod';
import { wholeNumber } from './args.js';
import { defineCommand } from './command-spec.js';
import { faultFlags, jsonFlag, recordedFleetFlags, stateDirFlag, waitFlag } from './common-flags.js';
import { calendarDayFlag } from './time-flags.js';

export const runSpec = defineCommand({
  name: 'run',
  summary: 'pull one night (default: yesterday) and build the warehouse, on this machine',
  usage: ['[--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD] [flags]'],
  description: `Pulls one night's vehicles and sensor readings from the built-in simulator of the fleet API, or from
the API described by --source FILE, stores them as NDJSON, builds the Parquet warehouse with DuckDB, and
prints the answer. --from/--to backfills one run per night. Running an unfinished night again resumes it;
running a finished one runs it again from the start. A night that is not over yet (its window ends after
now) is refused unless --allow-future is given: its data would be incomplete.`,
  flags: {
    date: {
      schema: calendarDayFlag.optional(),
      value: 'YYYY-MM-DD',
      help: "the night to run: a calendar day in the API's time zone (UTC for the simulator)",
      defaultText: 'yesterday, UTC',
    },
    from: { schema: calendarDayFlag.optional(), value: 'YYYY-MM-DD', help: 'the first night of a backfill' },
    to: { schema: calendarDayFlag.optional(), value: 'YYYY-MM-DD', help: 'the last night of a backfill' },
    'allow-future': {
      schema: z.boolean().default(false),
      help: 'run a night that is not over yet, or in the future (its data will be incomplete)',
    },
    source: {
      schema: z.string().min(1).optional(),
      value: 'FILE',
      help: 'the API to pull from, described in a JSON file (etl.config.example.json)',
      defaultText: 'the built-in simulator',
    },
    'state-dir': stateDirFlag,
    'page-size': {
      schema: wholeNumber(1, 50_000).default(50_000),
      value: 'N',
      help: 'rows per page asked of the API (1 to 50000)',
    },
    concurrency: {
      schema: wholeNumber(1, 256).optional(),
      value: 'N',
      help: 'at most N requests to the API at once',
      defaultText: "the source's rate budget; 4 for the simulator",
    },
    'requests-per-second': {
      schema: z
        .string()
        .regex(/^\d+(\.\d+)?$/, 'expected requests per second, e.g. 20')
        .transform(Number)
        .pipe(z.number().positive('expected more than 0').max(10_000))
        .optional(),
      value: 'R',
      help: 'at most R requests to the API per second',
      defaultText: "the source's rate budget; 20 for the simulator",
    },
    'sql-source': {
      schema: z.string().min(1).default('bundled'),
      value: 'SPEC',
      help: 'the SQL files: bundled (queries/), a folder, or github:OWNER/REPO[/PATH]@BRANCH (token in GITHUB_TOKEN, API in GITHUB_API_URL for GitHub Enterprise Server); a run reads them all at one commit',
    },
    json: jsonFlag,
    wait: waitFlag(),
    ...recordedFleetFlags,
    ...faultFlags,
  },
  examples: [
    'etl run --date 2026-11-24',
    'etl run --from 2026-11-20 --to 2026-11-24 --state-dir /var/lib/fleet-etl',
    'FLEET_ETL_SECRET_FLEET_API_CLIENT_SECRET=local-secret etl run --source etl.config.example.json',
  ],
  load: async () => (await import('./run-command.js')).runCommand,
});
