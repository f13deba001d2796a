import { describeError } from '../../../services/shared/errors.js';
import { StateFolderBusyError, StateLockUnreadableError } from '../state-lock/index.js';
import { UsageError } from './args.js';

const USAGE = `fleet-etl: the nightly fleet ETL, on this machine

Usage:
  etl run [--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD] [--state-dir DIR] [--json]
          [--source FILE] [--page-size N] [--concurrency N] [--requests-per-second R]
          [--vehicles N] [--readings N] [--seed N] [simulator fault flags]
          [--sql-source bundled|DIR|github:OWNER/REPO[/PATH]@BRANCH] [--wait SECONDS]
      Pull one night's vehicles and sensor readings (default: yesterday, UTC; --from/--to backfills
      one run per night) from the built-in simulator, or from the API described by --source FILE
      (see etl.config.example.json), store them as NDJSON, build the Parquet warehouse with DuckDB
      and print the answer. State (lake, warehouse, ledger, queue, event archive) lives in
      --state-dir (default .etl); running an unfinished night again resumes it.
  etl sim [--port N] [--vehicles N] [--readings N] [--seed N] [--fleet-start YYYY-MM-DD]
          [simulator fault flags]
      Serve the simulated fleet API on 127.0.0.1 until interrupted.
  simulator fault flags (etl run and etl sim):
      --throttle-rate P  --error-rate P  --truncate-rate P  --token-ttl S  --latency MS
      --rate-limit RPS  --fail-page DATASET:PAGE  --fault-seed N
  etl schedule [--state-dir DIR] [--catch-up N] [--once] [--source FILE] [--page-size N]
               [--vehicles N] [--readings N] [--seed N] [--wait SECONDS]
      Run the nightly schedule (the topology's cron, 01:00 UTC) on this machine; each firing runs
      that night as \`etl run --date\` does. Missed nights are caught up oldest first (at most
      --catch-up, default 7; older ones are named, not run). --once runs what is due and exits.
  etl replay [--since T] [--until T] [--detail-type X ...] [--consumer NAME ...] [--replay-name N]
             [--state-dir DIR] [--json] [--wait SECONDS]
      Send archived events again, with replay-name, to the named consumers' rules (all rules when
      none). T is YYYY-MM-DD (UTC) or a time with its zone. With --archive-arn ARN --bus-arn ARN
      (plus --since, --until, optional --rule-arn) it starts an EventBridge replay and follows it.
  etl events [--run ID] [--detail-type X ...] [--since T] [--until T] [--state-dir DIR] [--json]
      The archived events: time, detail-type, run and a one-line summary.
  etl events test-pattern PATTERN_JSON EVENT_JSON
      Print true or false as \`aws events test-event-pattern\` does (inline JSON or file://PATH).
  etl sql "<Athena SQL>" [--state-dir DIR] [--date YYYY-MM-DD] [--json] [--wait SECONDS]
      Run Athena SQL on the local warehouse through the same DuckDB bridge as etl run; placeholders
      such as \${database} are filled (--date also fills \${run_id} and \${run_date}).
  etl dlq list [--state-dir DIR] [--run ID] [--json]
  etl dlq redrive [--state-dir DIR] [--run ID] [--json] [--wait SECONDS]
      The download tasks that gave up (dead letters), with the reason; redrive moves them back to
      the tasks queue. With --queue-url DLQ_URL --source-queue-url TASKS_URL it works on the real
      queues in AWS (credentials and region from the AWS environment).
  etl twin run [--date YYYY-MM-DD] [-c KEY=VALUE | -c FILE.json ...] [--app CLOUD_ASSEMBLY_DIR]
               [--vehicles N] [--readings N] [--seed N] [--max-rounds N] [--json]
      Rehearse a deployment: synthesize the stack as \`cdk synth\` does with the same -c settings
      (-c FILE.json is -c fleet-etl:configFile=FILE.json), or take the assembly --app names, and
      run one night of it (default: yesterday, UTC) on the cloud twin: the real bundles, every AWS
      call authorized by the template's IAM on loopback, the fleet API simulated. Prints the stages
      reached, each denied call with the grant that would allow it, and a verdict: exit 0 when the
      night reached EtlDone, or the furthest stage the twin emulates, with nothing refused or failed.
  etl help
      Show this text.

One etl process works on a state folder at a time (<state-dir>/etl.lock): run, sql, replay and
dlq redrive wait for the one using it up to --wait SECONDS (default 60; 900 for the nights
etl schedule runs), saying so, then exit 2 naming it; --wait 0 refuses at once. The lock of a
process that is gone (killed) is taken over.
Exit codes: 0 done; 1 failed, with the reasons on stderr; 2 a usage error, or the state folder
stayed in use by another process.
`;

type Command = (argv: readonly string[]) => Promise<number>;

/**
 * Each command's module loads when it runs: `etl sql` alone brings DuckDB and the WebAssembly SQL transpiler
 * (about 1.5 s), which `etl run` loads on its own while the simulator's thread starts.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  run: async () => (await import('./run-command.js')).runCommand,
  sim: async () => (await import('./sim-command.js')).simCommand,
  dlq: async () => (await import('./dlq-command.js')).dlqCommand,
  sql: async () => (await import('./sql-command.js')).sqlCommand,
  schedule: async () => (await import('./schedule-command.js')).scheduleCommand,
  replay: async () => (await import('./replay-command.js')).replayCommand,
  events: async () => (await import('./events-command.js')).eventsCommand,
  twin: async () => (await import('./twin-command.js')).twinCommand,
};

/** Entry point of the `etl` command; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // Own keys only: `etl toString` is an unknown command, not Object.prototype's.
    const load = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (load !== undefined) return await (await load())(rest);
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`etl: ${error.message}\n\n${USAGE}`);
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
