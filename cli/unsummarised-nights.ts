import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { quoteLiteral } from '../services/adapters/local/duckdb/sql-literals.js';
import { filesBelow, runOfFile } from '../services/adapters/local/duckdb/table-writer.js';
import { runIdFor } from '../services/shared/run-identity.js';
import { localDay, windowOfDay } from '../services/source-config/index.js';

/**
 * The answer (queries/40) is computed from vehicle_day_intervals, which each night writes from its own readings
 * (queries/38, decision 88). A night run before 38 existed, or stopped between 30 and 38 and never run again, has
 * its readings in sensor_data but none in the summary, and the answer would leave them out without a word. Such a
 * warehouse is not migrated by a backfill from sensor_data: those rows would belong to no night, and running an old
 * night again would count its readings twice (decision 88). Running those nights again writes their rows, so
 * `etl run` refuses until it is asked to, naming them (decision 94).
 *
 * The local engine names every Parquet file after the run that wrote it (table-writer.ts), so the nights are read
 * off the two tables' file names: a run with sensor_data files and no summary file. A night whose readings all lack
 * a value writes no summary row either (38 leaves such readings out, as the answer does); its files are read to
 * tell it apart, which costs nothing on a migrated warehouse (there is no such run to read).
 */
const SUMMARY_FILE = /_vehicle_day_intervals\.sql$/;

/** The folders of the two tables below the warehouse, as queries/30 and queries/38 declare them. */
const SENSOR_DATA = 'sensor_data';
const SUMMARY = 'vehicle_day_intervals';

/** Whether the SQL in a folder keeps the summary: only then does the answer depend on it. */
export async function folderKeepsSummary(folder: string): Promise<boolean> {
  try {
    return (await readdir(folder)).some((name) => SUMMARY_FILE.test(name));
  } catch {
    return false;
  }
}

/** Run ids with readings in sensor_data (with a value) and no row in vehicle_day_intervals, in order. */
export async function runsMissingFromSummary(warehouse: string): Promise<string[]> {
  const sensorFiles = await runFiles(path.join(warehouse, SENSOR_DATA));
  const summarised = new Set((await runFiles(path.join(warehouse, SUMMARY))).keys());
  const candidates = [...sensorFiles].filter(([run]) => !summarised.has(run));
  if (candidates.length === 0) return [];
  const missing: string[] = [];
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    for (const [run, files] of candidates) {
      const reader = await connection.runAndReadAll(
        `SELECT count(sensor_value) > 0 AS measured FROM read_parquet([${files.map(quoteLiteral).join(', ')}])`,
      );
      if (reader.getRowObjectsJS()[0]?.measured === true) missing.push(run);
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return missing.sort();
}

/** A table's Parquet files by the run that wrote them. */
async function runFiles(folder: string): Promise<Map<string, string[]>> {
  const byRun = new Map<string, string[]>();
  for (const file of await filesBelow(folder)) {
    const run = runOfFile(path.basename(file));
    if (run === undefined) continue;
    byRun.set(run, [...(byRun.get(run) ?? []), file]);
  }
  return byRun;
}

/** The night (a calendar day in the source's zone) a run id stands for; undefined when it is no whole night. */
export function nightOfRun(runId: string, timeZone: string): string | undefined {
  const compact = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z-/.exec(runId);
  const from = /^\d{4}-\d\d-\d\d$/.test(runId)
    ? Date.parse(`${runId}T00:00:00Z`)
    : compact === null
      ? Number.NaN
      : Date.parse(`${compact[1]}-${compact[2]}-${compact[3]}T${compact[4]}:${compact[5]}:${compact[6]}Z`);
  if (Number.isNaN(from)) return undefined;
  const day = localDay(from, timeZone);
  return runIdFor(windowOfDay(day, timeZone)) === runId ? day : undefined;
}

/**
 * Why `etl run` refuses, and the commands that fix it: one backfill per stretch of consecutive nights. `rerun` is
 * the rest of the command line the nights must run with (the state folder, the source).
 */
export function describeMissingNights(runs: readonly string[], timeZone: string, rerun: string): string {
  const nights = runs.map((run) => nightOfRun(run, timeZone));
  const days = nights.filter((night): night is string => night !== undefined).sort();
  const stretches: [string, string][] = [];
  for (const day of days) {
    const last = stretches.at(-1);
    if (
      last !== undefined &&
      Date.parse(`${day}T00:00:00Z`) - Date.parse(`${last[1]}T00:00:00Z`) === 86_400_000
    )
      last[1] = day;
    else stretches.push([day, day]);
  }
  const commands = stretches.map(([from, to]) =>
    from === to ? `etl run --date ${from}${rerun}` : `etl run --from ${from} --to ${to}${rerun}`,
  );
  const unnamed = runs.filter((_, i) => nights[i] === undefined);
  const listed = runs.length > 6 ? `${runs.slice(0, 3).join(', ')}, ... ${runs.at(-1)}` : runs.join(', ');
  return (
    `the warehouse holds ${runs.length} night(s) whose readings are in sensor_data but not in vehicle_day_intervals, ` +
    `the per-vehicle-day summary the answer is computed from (${listed}): they ran before ` +
    'queries/38_vehicle_day_intervals.sql existed, or stopped before it. The answer would leave their readings out. ' +
    `Run them again first (their pages are fetched again; nothing is counted twice):\n` +
    commands.map((command) => `  ${command}\n`).join('') +
    (unnamed.length > 0
      ? `  and the runs ${unnamed.join(', ')} (windows that are no whole night here)\n`
      : '') +
    'or include them in this backfill (--from ... --to ...). See docs/decisions/0088.'
  );
}
