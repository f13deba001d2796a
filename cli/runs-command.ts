import { existsSync } from 'node:fs';
import type { DateWindow } from '../events/index.js';
import { type RunHistory, readRunHistory } from '../local/run-history.js';
import { relativeToCwd } from '../local/run-pipeline.js';
import { stateLayout } from '../local/runtime.js';
import { formatCount } from '../services/shared/number-format.js';
import { localDay, windowOfDay } from '../services/source-config/index.js';
import { UsageError } from './args.js';
import { parseFlags } from './command-spec.js';
import { renderTable } from './render.js';
import { LEDGER_TABLE_VARIABLE, ledgerTableName, runsSpec } from './runs-spec.js';

/** A failure reason in the table is cut to this; --json has it whole. */
const REASON_WIDTH = 80;

/** `etl runs`: the nights of a state folder, one line each (or one JSON object). */
export async function runsCommand(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(runsSpec, argv);
  const table = flags['ledger-table'] ?? tableFromEnvironment();
  if (table !== undefined) return listLedger(table, flags.run, flags.json);
  const { root } = stateLayout(flags['state-dir']);
  if (!existsSync(root)) {
    // Nothing to read, and nothing is created by reading.
    process.stderr.write(`etl runs: no state folder at ${root}; \`etl run\` creates it\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify({ stateDir: root, runs: [] })}\n`);
    return 0;
  }
  const history = await readRunHistory(flags['state-dir']);
  const runs = history.runs.filter((run) => flags.run === undefined || run.runId === flags.run);
  if (history.truncatedArchiveLine !== undefined) {
    process.stderr.write(
      `skipped line ${history.truncatedArchiveLine} of the event archive: cut short by a crash while appending\n`,
    );
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ stateDir: history.stateDir, runs })}\n`);
    return 0;
  }
  printTable(runs, relativeToCwd(history.stateDir));
  return 0;
}

/** RUN_LEDGER_TABLE, as the Lambdas have it; unset or empty is no table. */
function tableFromEnvironment(): string | undefined {
  const value = process.env[LEDGER_TABLE_VARIABLE];
  if (value === undefined || value === '') return undefined;
  const parsed = ledgerTableName.safeParse(value);
  if (!parsed.success) {
    throw new UsageError(
      `${LEDGER_TABLE_VARIABLE}="${value}": ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** The nights of a stage's DynamoDB ledger; the AWS SDK is loaded only here, not for a state folder. */
async function listLedger(table: string, onlyRun: string | undefined, json: boolean): Promise<number> {
  const [{ DynamoDBClient }, { DynamoDbRunLedger }, { readLedgerHistory }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('../services/adapters/aws/dynamodb/run-ledger.js'),
    import('../local/ledger-run-history.js'),
  ]);
  // Endpoint, region and credentials from the standard AWS environment (AWS_REGION, AWS_PROFILE,
  // AWS_ENDPOINT_URL_DYNAMODB, ...).
  const client = new DynamoDBClient({});
  try {
    const history = await readLedgerHistory(
      new DynamoDbRunLedger(client, { tableName: table }),
      table,
      onlyRun,
    );
    if (json) {
      process.stdout.write(`${JSON.stringify(history)}\n`);
      return 0;
    }
    printTable(history.runs, `DynamoDB table ${table}`);
    return 0;
  } finally {
    client.destroy();
  }
}

function printTable(runs: readonly RunHistory[], source: string): void {
  process.stdout.write(`${runs.length} night(s) in ${source}\n`);
  if (runs.length > 0) {
    const rows = runs.map(tableRow);
    process.stdout.write(`${renderTable(Object.keys(rows[0] ?? {}), rows)}\n`);
  }
}

/** A sum of counts one of which the source did not know is unknown, shown as "?". */
function sumOrUnknown(values: readonly (number | null)[]): string {
  return values.some((v) => v === null)
    ? '?'
    : formatCount(values.reduce<number>((sum, v) => sum + (v ?? 0), 0));
}

function tableRow(run: RunHistory): Record<string, string> {
  const datasets = Object.values(run.datasets);
  const planned = datasets.every((d) => d.plannedPages !== null)
    ? String(datasets.reduce((sum, d) => sum + (d.plannedPages ?? 0), 0))
    : '?';
  const stored = datasets.reduce((sum, d) => sum + d.storedPages, 0);
  // Readings of unknown vehicles are counted only when EtlDone says so: absent, none were dropped.
  const dropped = sumOrUnknown([
    ...datasets.map((d) => d.outsideWindowRows),
    run.unknownVehicleReadings ?? 0,
  ]);
  const reason = run.failures[0];
  return {
    run: run.runId,
    window: run.window === null ? '?' : describeWindow(run.window),
    status:
      run.attempts !== null && run.attempts > 1 ? `${run.status} (${run.attempts} attempts)` : run.status,
    pages: `${stored}/${planned}`,
    rows: formatCount(datasets.reduce((sum, d) => sum + d.rows, 0)),
    quarantined: sumOrUnknown(datasets.map((d) => d.quarantinedRows)),
    dropped,
    // Event times are whole seconds, as EventBridge's are.
    duration: run.durationMs === null ? '' : `${Math.round(run.durationMs / 1000)} s`,
    'report / failure':
      reason !== undefined
        ? truncate(reason + (run.failures.length > 1 ? ` (+${run.failures.length - 1} more)` : ''))
        : run.report === null
          ? ''
          : relativeToCwd(run.report),
  };
}

/**
 * A nightly window (a whole calendar day in its zone) as `2026-11-24 UTC`; any other window as its bounds,
 * `2026-11-24T06:00Z..2026-11-25T06:00Z`.
 */
function describeWindow(window: DateWindow): string {
  const day = localDay(Date.parse(window.from), window.timeZone);
  const nightly = windowOfDay(day, window.timeZone);
  if (nightly.from === window.from && nightly.to === window.to) return `${day} ${window.timeZone}`;
  const short = (iso: string) => iso.replace(/:00\.000Z$/, 'Z');
  return `${short(window.from)}..${short(window.to)}`;
}

function truncate(text: string): string {
  const line = text.replaceAll('\n', ' ');
  return line.length <= REASON_WIDTH ? line : `${line.slice(0, REASON_WIDTH - 1)}…`;
}
