import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { stateLayout } from '../../local/runtime.js';
import { SqliteQueue } from '../../services/adapters/local/sqlite/sqlite-queue.js';
import { openStateDatabase } from '../../services/adapters/local/sqlite/state-database.js';
import { rawPageKey } from '../../services/shared/lake-keys.js';
import type { SensorRow, VehicleRow } from '../../services/shared/rows.js';
import { expectedAnswer } from '../helpers/expected-answer.js';
import { CLIENT_SECRET, type FaultRun, PAGE_SIZE, ROTATED_SECRET } from './harness.js';

export type Answer = { vehicle_type: string; avg_seconds_between_measurements: number; vehicles: number }[];

/**
 * What the invariants read of a run: its summary, its state folder, the rows the API holds for the night and every
 * access token issued. An in-process run (FaultRun) has more; a run of `etl run` as a process against another
 * process's API has just this.
 */
export type CheckedRun = Pick<FaultRun, 'summary' | 'stateDir' | 'world' | 'tokens'>;

/** What a scenario expects of its run: the fault-free answer, or a failure whose reasons match `failure`. */
export type Expectation = (
  | {
      kind: 'answer';
      /** `world`: the scenario's simulator holds another night (an empty day): compare with its own rows. */
      against?: 'baseline' | 'world';
      /**
       * Dead letters left when the run ends (default 0). A resume that stores a page an earlier attempt gave up on
       * removes that page's dead letter: none is left of a night that succeeded.
       */
      deadLetters?: number;
    }
  | {
      kind: 'failure';
      failure: RegExp;
      deadLetters?: number;
      /**
       * The API itself sent some of the night's rows twice: the raw lake, the record of what it answered, holds
       * them, and the night must fail before the warehouse takes any row of it.
       */
      apiRepeatsRows?: true;
    }
) & {
  /**
   * The pages the API itself made of the night, when they are not the night's rows in pages of PAGE_SIZE: an API that
   * ignores the date filters pages other nights' rows too, and the run stores (without those rows) the pages it
   * said there were. Default: computed from the night's rows.
   */
  apiPages?: { vehicles: number; sensors: number };
  /** The scenario publishes every event this many times itself (default 1): the archive holds that many copies. */
  publishedTimes?: number;
  /**
   * Attempts of the run (default 1). A run resumed after its query stage was interrupted is a second attempt, and
   * announces DownloadsDrained once more, by design (docs/decisions/0005).
   */
  attempts?: number;
};

export interface InvariantReport {
  /** Planned pages whose object was checked. */
  pagesChecked: number;
  /** Rows (or pages) present more than once: in the lake, in the tables, or in PageDownloaded. */
  duplicates: number;
  /** Rows of the night missing from the lake or the tables of a run that said it succeeded. */
  lost: number;
  /** Problems found; empty when every invariant holds. */
  violations: string[];
  /** Short description of what held, for the scenario's line. */
  checked: string[];
}

const SENSOR_KEY = (r: { vehicle_id: string; timestamp: number }) => `${r.vehicle_id}@${r.timestamp}`;

/** Every file under a folder, relative, sorted; temporary files included. */
export function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

export function archivedEvents(
  stateDir: string,
): { 'detail-type': string; detail: Record<string, unknown> }[] {
  let text: string;
  try {
    text = readFileSync(stateLayout(stateDir).archive, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '');
}

/** Rows in `actual` beyond their count in `expected` (duplicates) and rows of `expected` missing (lost). */
function multisetDifference(expected: string[], actual: string[]): { extra: number; missing: number } {
  const counts = new Map<string, number>();
  for (const key of expected) counts.set(key, (counts.get(key) ?? 0) + 1);
  let extra = 0;
  for (const key of actual) {
    const left = counts.get(key) ?? 0;
    if (left === 0) extra += 1;
    else counts.set(key, left - 1);
  }
  let missing = 0;
  for (const left of counts.values()) missing += left;
  return { extra, missing };
}

async function warehouseKeys(
  warehouse: string,
): Promise<{ vehicles: string[]; sensors: string[]; copies: string[] }> {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  const read = async (sql: string): Promise<string[]> => {
    try {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjects().map((row) => String(row.k));
    } catch {
      return []; // no Parquet file yet: the table is empty
    }
  };
  try {
    return {
      vehicles: await read(
        `SELECT vehicle_id AS k FROM read_parquet('${warehouse}/vehicles_data/**/*.parquet', hive_partitioning = true)`,
      ),
      sensors: await read(
        `SELECT vehicle_id || '@' || CAST("timestamp" AS VARCHAR) AS k FROM read_parquet('${warehouse}/sensor_data/**/*.parquet', hive_partitioning = true)`,
      ),
      // The runs' working copies of their raw readings (queries/12): every raw row, known vehicle or not. A NULL
      // vehicle_id reads as "null", as the raw rows' keys write it.
      copies: await read(
        `SELECT coalesce(vehicle_id, 'null') || '@' || CAST("timestamp" AS VARCHAR) AS k FROM read_parquet('${warehouse}/run_sensor_readings/**/*.parquet', hive_partitioning = true)`,
      ),
    };
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

export interface LakeCheck {
  /** The raw lake's folder: objects at their keys (`sensors/run=<run>/page-00001.ndjson`, `rejected/...`). */
  raw: string;
  /** The warehouse's folder: `<table>/<partition>=<value>/.../*.parquet`. */
  warehouse: string;
  /** Further folders the run wrote to, searched for temporary objects only (results, say). */
  others?: readonly string[];
  runId: string;
  /** Pages of each dataset the night has: computed from the world, not from the run's own events. */
  planned: { vehicles: number; sensors: number };
  /** The rows the API holds for the run's window. */
  world: { vehicles: readonly VehicleRow[]; sensors: readonly SensorRow[] };
  /** Whether the run said it succeeded: then every page and every row must be there. */
  succeeded: boolean;
  /** The API itself sent rows twice (Expectation's apiRepeatsRows): the raw lake may hold them. */
  apiRepeatsRows?: boolean;
}

export interface LakeReport {
  violations: string[];
  checked: string[];
  duplicates: number;
  lost: number;
  /** The raw page objects found (relative keys), rejected rows aside. */
  pageFiles: string[];
  /** Planned pages whose object was looked for. */
  pagesChecked: number;
}

/**
 * The invariants of the lake and the tables, whatever runtime wrote them (the local one, or the cloud twin's S3
 * copied into folders):
 * - the raw lake holds at most one object per planned page of the run, each a whole page, and no stray or
 *   temporary object; a run that succeeded holds every planned page and every row of the night exactly once;
 * - the warehouse holds each raw row once, after the documented filter (readings of vehicles not in
 *   vehicles_data are dropped by the join in queries/30_sensor_data.sql).
 */
export async function checkLakeAndTables(input: LakeCheck): Promise<LakeReport> {
  const violations: string[] = [];
  const checked: string[] = [];
  const { runId, planned, succeeded } = input;
  const rawFiles = filesUnder(input.raw);
  const allLake = [
    ...rawFiles,
    ...filesUnder(input.warehouse),
    ...(input.others ?? []).flatMap((folder) => filesUnder(folder)),
  ];
  const temporary = allLake.filter((f) => path.basename(f).startsWith('.'));
  if (temporary.length > 0) violations.push(`temporary objects left: ${temporary.join(', ')}`);
  const expectedKeys = new Set<string>();
  for (const dataset of ['vehicles', 'sensors'] as const) {
    for (let page = 1; page <= planned[dataset]; page += 1)
      expectedKeys.add(rawPageKey(dataset, runId, page));
  }
  const pageFiles = rawFiles.filter((f) => !f.startsWith('rejected/'));
  const stray = pageFiles.filter((f) => !expectedKeys.has(f));
  if (stray.length > 0) violations.push(`objects outside the plan: ${stray.join(', ')}`);
  if (succeeded && pageFiles.length !== expectedKeys.size) {
    violations.push(`${pageFiles.length} page objects for ${expectedKeys.size} planned pages`);
  }
  const lakeRows = {
    vehicles: pageFiles
      .filter((f) => f.startsWith('vehicles/'))
      .flatMap((f) => lines(path.join(input.raw, f)).map((l) => String(JSON.parse(l).vehicle_id))),
    sensors: pageFiles
      .filter((f) => f.startsWith('sensors/'))
      .flatMap((f) => lines(path.join(input.raw, f)).map((l) => SENSOR_KEY(JSON.parse(l)))),
  };
  const worldKeys = {
    vehicles: input.world.vehicles.map((v) => v.vehicle_id),
    sensors: input.world.sensors.map(SENSOR_KEY),
  };
  let duplicates = 0;
  let lost = 0;
  for (const dataset of ['vehicles', 'sensors'] as const) {
    const { extra, missing } = multisetDifference(worldKeys[dataset], lakeRows[dataset]);
    if (extra > 0 && input.apiRepeatsRows === true) {
      // The API's own repeats, kept in the raw lake as it answered: the scenario's fault, not a duplicate the
      // pipeline made (its check refuses the night before the warehouse takes any of them).
      checked.push(`${extra} ${dataset} rows the API sent twice, in the raw lake only`);
    } else if (extra > 0) {
      duplicates += extra;
      violations.push(`${extra} ${dataset} rows in the lake beyond the night's rows`);
    }
    if (succeeded && missing > 0) {
      lost += missing;
      violations.push(`${missing} ${dataset} rows of the night missing from the lake`);
    }
  }
  checked.push(`${pageFiles.length}/${expectedKeys.size} pages once`);

  // The warehouse: raw rows after the documented filter, once each.
  if (succeeded) {
    const tables = await warehouseKeys(input.warehouse);
    const known = new Set(lakeRows.vehicles);
    const expectedSensors = lakeRows.sensors.filter((k) => known.has(k.slice(0, k.indexOf('@'))));
    for (const [table, expected, actual] of [
      ['vehicles_data', lakeRows.vehicles, tables.vehicles],
      ['sensor_data', expectedSensors, tables.sensors],
      ['run_sensor_readings', lakeRows.sensors, tables.copies],
    ] as const) {
      const { extra, missing } = multisetDifference([...expected], [...actual]);
      duplicates += extra;
      lost += missing;
      if (extra > 0) violations.push(`${table}: ${extra} rows beyond the raw rows`);
      if (missing > 0) violations.push(`${table}: ${missing} raw rows missing`);
    }
    checked.push(`tables = raw rows (${tables.vehicles.length}+${tables.sensors.length})`);
  }
  return { violations, checked, duplicates, lost, pageFiles, pagesChecked: expectedKeys.size };
}

/** The files under a folder (relative) holding any of the secrets. */
export function filesHolding(root: string, secrets: readonly string[]): string[] {
  return filesUnder(root).filter((file) => {
    const bytes = readFileSync(path.join(root, file));
    return secrets.some((secret) => bytes.includes(secret));
  });
}

/** The answer of a run, rows in the report's order. */
export function answerOf(run: Pick<CheckedRun, 'summary'>): Answer {
  return (run.summary.results.avg_seconds_between_measurements?.rows ?? []).map((row) => ({
    vehicle_type: String(row.vehicle_type),
    avg_seconds_between_measurements: Number(row.avg_seconds_between_measurements),
    vehicles: Number(row.vehicles),
  }));
}

export function sameAnswer(actual: Answer, expected: Answer): boolean {
  return (
    actual.length === expected.length &&
    actual.every((row, i) => {
      const e = expected[i];
      return (
        e !== undefined &&
        row.vehicle_type === e.vehicle_type &&
        row.vehicles === e.vehicles &&
        Math.abs(row.avg_seconds_between_measurements - e.avg_seconds_between_measurements) < 1e-9
      );
    })
  );
}

/** The answer computed in TypeScript from the simulator's rows: what the fault-free run must give. */
export function independentAnswer(run: Pick<CheckedRun, 'world'>): Answer {
  return expectedAnswer(run.world.vehicles, run.world.sensors);
}

/**
 * The invariants every scenario is held to, whatever it injected:
 * - the lake holds at most one object per planned page of the run, each a whole page, and no stray or temporary
 *   object; a run that succeeded holds every planned page and every row of the night exactly once;
 * - the warehouse holds each raw row once, after the documented filter (readings of vehicles not in
 *   vehicles_data are dropped by the join in queries/30_sensor_data.sql);
 * - the answer equals the fault-free answer, or the run failed with reasons that name the cause;
 * - no task is left queued or in flight, nothing but the expected dead letters;
 * - no client secret or issued access token appears anywhere the run wrote, nor in its failures.
 */
export async function checkInvariants(
  run: CheckedRun,
  expectation: Expectation,
  baseline: Answer,
): Promise<InvariantReport> {
  const violations: string[] = [];
  const checked: string[] = [];
  const layout = stateLayout(run.stateDir);
  const { runId } = run.summary;
  const planned = expectation.apiPages ?? {
    vehicles: Math.ceil(run.world.vehicles.length / PAGE_SIZE),
    sensors: Math.ceil(run.world.sensors.length / PAGE_SIZE),
  };

  const lake = await checkLakeAndTables({
    raw: layout.raw,
    others: [layout.results],
    warehouse: layout.warehouse,
    runId,
    planned,
    world: run.world,
    succeeded: run.summary.status === 'succeeded',
    apiRepeatsRows: expectation.kind === 'failure' && expectation.apiRepeatsRows === true,
  });
  if (expectation.kind === 'failure' && expectation.apiRepeatsRows === true) {
    const tables = await warehouseKeys(layout.warehouse);
    const taken = tables.vehicles.length + tables.sensors.length;
    if (taken > 0) violations.push(`the warehouse took ${taken} rows of a night that failed its check`);
    else checked.push('none of them in the warehouse');
  }
  violations.push(...lake.violations);
  checked.push(...lake.checked);
  let { duplicates, lost } = lake;
  const succeeded = run.summary.status === 'succeeded';

  // PageDownloaded: announced once per page (per attempt of the run).
  const events = archivedEvents(run.stateDir);
  const announced = events
    .filter((e) => e['detail-type'] === 'PageDownloaded' && e.detail.runId === runId)
    .map((e) => `${String(e.detail.dataset)}:${String(e.detail.page)}`);
  const drained = events.filter((e) => e['detail-type'] === 'DownloadsDrained' && e.detail.runId === runId);
  const copies = (expectation.publishedTimes ?? 1) * (expectation.attempts ?? 1);
  if (drained.length > copies) {
    duplicates += drained.length - copies;
    violations.push(`DownloadsDrained announced ${drained.length / copies} times`);
  }

  if (succeeded && new Set(announced).size !== announced.length && drained.length <= 1) {
    // Redeliveries may announce a page again; the ledger counts it once. Not a violation, but counted.
    checked.push(`${announced.length - new Set(announced).size} repeated PageDownloaded absorbed`);
  }

  // The outcome.
  if (expectation.kind === 'answer') {
    if (!succeeded) violations.push(`run failed: ${run.summary.failures.join(' | ')}`);
    else if (expectation.against === 'world') {
      if (!sameAnswer(answerOf(run), independentAnswer(run)))
        violations.push('answer differs from the rows served');
      else checked.push(`answer = the rows served (${answerOf(run).length} types)`);
    } else if (!sameAnswer(answerOf(run), baseline))
      violations.push('answer differs from the fault-free answer');
    else checked.push('answer = fault-free');
  } else {
    if (succeeded) violations.push('run succeeded where it had to fail');
    else if (!run.summary.failures.some((f) => expectation.failure.test(f))) {
      violations.push(`failure does not name the cause: ${run.summary.failures.join(' | ') || '(none)'}`);
    } else {
      checked.push(`failed naming the cause`);
    }
    const failed = events.filter((e) => e['detail-type'] === 'EtlFailed' && e.detail.runId === runId);
    if (failed.length === 0 && !run.summary.failures.some((f) => /dead letter/.test(f))) {
      violations.push('no EtlFailed event and no dead letter');
    }
  }

  // Nothing left queued or in flight.
  const db = openStateDatabase(layout.state);
  try {
    const tasks = new SqliteQueue(db, { name: 'tasks', visibilityTimeoutMs: 0, maxReceiveCount: 5 });
    const depth = tasks.depth;
    if (depth.visible + depth.inFlight + depth.delayed > 0) {
      violations.push(`tasks left: ${JSON.stringify(depth)}`);
    }
    const expectedLetters =
      expectation.kind === 'failure'
        ? (expectation.deadLetters ?? depth.deadLetters)
        : (expectation.deadLetters ?? 0);
    if (depth.deadLetters !== expectedLetters) {
      violations.push(`${depth.deadLetters} task dead letters, expected ${expectedLetters}`);
    }
  } finally {
    db.close();
  }

  // Secrets: nowhere in what the run wrote, nor in what it reported.
  const secrets = [CLIENT_SECRET, ROTATED_SECRET, ...run.tokens];
  const leaks = new Set(filesHolding(run.stateDir, secrets));
  const reported = JSON.stringify(run.summary);
  for (const secret of secrets) if (reported.includes(secret)) leaks.add('the run summary');
  if (leaks.size > 0) violations.push(`a secret or token appears in ${[...leaks].join(', ')}`);
  else checked.push(`no secret in ${filesUnder(run.stateDir).length} files`);

  return { pagesChecked: lake.pagesChecked, duplicates, lost, violations, checked };
}
