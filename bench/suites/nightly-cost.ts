import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createDuckDbQueryEngine } from '../../services/adapters/local/duckdb/duckdb-query-engine.js';
import type { JsonValue } from '../../services/ports/query-engine.js';
import {
  renderPlaceholders,
  SqlPlaceholderValuesSchema,
  splitStatements,
} from '../../services/shared/sql-text.js';
import {
  landNight,
  type NightsSpec,
  nightsWithLateReadings,
} from '../../tests/helpers/nights-with-late-readings.js';
import type { BenchContext, BenchRow, BenchSuite } from '../suite.js';

/**
 * What a night's SQL reads, night after night: the bytes scanned by each file of queries/ on the local engine
 * (DuckDB's reads of the lake, the local dataScannedBytes; Athena bills DataScannedInBytes the same way), for
 * 30 nights of a fleet whose readings also land late in the days before. Beside them, what the answer recomputed
 * from the whole of sensor_data (tests/helpers/full-history-answer.sql, queries/40 before decision 88) would read
 * on the same night. The incremental answer is compared with it every night, to the last bit.
 */
const QUERIES = fileURLToPath(new URL('../../queries/', import.meta.url));
const FULL_HISTORY = fileURLToPath(new URL('../../tests/helpers/full-history-answer.sql', import.meta.url));

/** About the default fleet of `etl run`: 200 vehicles, some 500 readings each a night. */
const FULL: NightsSpec = {
  nights: 30,
  vehicles: 200,
  readingsPerVehicle: 500,
  firstDay: '2026-10-01',
  pageSize: 50_000,
  seed: 30,
};
const SMOKE: NightsSpec = { ...FULL, nights: 3, vehicles: 20, readingsPerVehicle: 50 };

/** Nights reported as rows (1-based); every night is measured. */
function reportedNights(nights: number): number[] {
  return [...new Set([1, 2, Math.ceil(nights / 3), Math.ceil((2 * nights) / 3), nights])].filter(
    (night) => night >= 1 && night <= nights,
  );
}

interface NightCost {
  readings: number;
  /** Bytes scanned per SQL file of queries/, in run order. */
  byFile: Record<string, number>;
  total: number;
  /** What the full-history answer reads on this night, in place of queries/38 and 40. */
  fullHistory: number;
  sameAnswer: boolean;
}

function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 100) / 100;
}

async function run(context: BenchContext): Promise<BenchRow[]> {
  const spec = context.smoke ? SMOKE : FULL;
  const root = await mkdtemp(join(tmpdir(), 'fleet-etl-bench-nightly-cost-'));
  const rawRoot = join(root, 'lake', 'raw');
  const warehouseRoot = join(root, 'lake', 'warehouse');
  const engine = await createDuckDbQueryEngine({ databasePath: join(root, 'warehouse.duckdb') });
  const files = (await readdir(QUERIES)).filter((name) => name.endsWith('.sql')).sort();
  const texts = new Map(
    await Promise.all(files.map(async (f) => [f, await readFile(join(QUERIES, f), 'utf8')] as const)),
  );
  const fullHistoryText = await readFile(FULL_HISTORY, 'utf8');
  const costs: NightCost[] = [];
  try {
    for (const [index, night] of nightsWithLateReadings(spec).entries()) {
      await landNight(rawRoot, night);
      const values = SqlPlaceholderValuesSchema.parse({
        database: 'fleet',
        raw_location: pathToFileURL(rawRoot).href,
        warehouse_location: pathToFileURL(warehouseRoot).href,
        run_id: night.runId,
        run_date: night.runId,
      });
      const byFile: Record<string, number> = {};
      let answer: Record<string, JsonValue>[] = [];
      for (const file of files) {
        byFile[file] = 0;
        const statements = splitStatements(renderPlaceholders(texts.get(file) ?? '', values));
        for (const [statementIndex, sql] of statements.entries()) {
          const outcome = await engine.execute(sql, {
            runId: night.runId,
            file,
            statementIndex,
            attempt: 'bench',
          });
          byFile[file] += outcome.dataScannedBytes;
          if (outcome.result) answer = outcome.result.rows;
        }
      }
      const [fullSql = ''] = splitStatements(renderPlaceholders(fullHistoryText, values));
      const full = await engine.execute(fullSql, {
        runId: night.runId,
        file: 'full-history-answer.sql',
        statementIndex: 0,
        attempt: 'bench',
      });
      const total = Object.values(byFile).reduce((sum, bytes) => sum + bytes, 0);
      const sameAnswer = JSON.stringify(full.result?.rows) === JSON.stringify(answer);
      if (!sameAnswer) {
        throw new Error(
          `night ${index + 1}: the incremental answer differs from the full history's:\n${JSON.stringify(answer)}\n${JSON.stringify(full.result?.rows)}`,
        );
      }
      costs.push({
        readings: night.sensorPages.reduce((sum, page) => sum + page.length, 0),
        byFile,
        total,
        fullHistory: full.dataScannedBytes,
        sameAnswer,
      });
      context.log(
        `night ${index + 1} (${night.runId}): ${mib(total)} MiB scanned; the answer ${mib(byFile['40_avg_seconds_between_measurements.sql'] ?? 0)} MiB, recomputed from the whole history ${mib(full.dataScannedBytes)} MiB`,
      );
    }
  } finally {
    await engine.close();
    await rm(root, { recursive: true, force: true });
  }

  const first = costs[0];
  const last = costs.at(-1);
  if (!first || !last) throw new Error('no night was measured');
  const rows: BenchRow[] = reportedNights(costs.length).map((number) => {
    const cost = costs[number - 1] as NightCost;
    const figures: Record<string, number | string> = { readings: cost.readings };
    for (const [file, bytes] of Object.entries(cost.byFile)) {
      if (bytes > 0) figures[`${file.slice(0, 2)}KiB`] = Math.round(bytes / 1024);
    }
    figures.nightMiB = mib(cost.total);
    // The same night with the old queries/40: every file but the summary and the answer, plus the full history.
    const before =
      cost.total -
      (cost.byFile['38_vehicle_day_intervals.sql'] ?? 0) -
      (cost.byFile['40_avg_seconds_between_measurements.sql'] ?? 0) +
      cost.fullHistory;
    figures.fullHistoryAnswerMiB = mib(cost.fullHistory);
    figures.nightBeforeMiB = mib(before);
    figures.sameAnswer = cost.sameAnswer ? 'yes' : 'no';
    return { case: `night ${number} of ${costs.length}`, figures };
  });
  const growth = last.total / last.readings / (first.total / first.readings);
  const answerGrowthPerNight =
    ((last.byFile['40_avg_seconds_between_measurements.sql'] ?? 0) -
      (first.byFile['40_avg_seconds_between_measurements.sql'] ?? 0)) /
    Math.max(1, costs.length - 1);
  rows.push({
    case: `night ${costs.length} against night 1, bytes scanned per reading of the night`,
    figures: {
      ratio: growth,
      answerKiBAddedPerNight: Math.round(answerGrowthPerNight / 1024),
      fullHistoryRatio: last.fullHistory / first.fullHistory,
    },
    target: {
      description: `night ${costs.length} scans at most 1.1× night 1 per reading (flat with history)`,
      met: growth <= 1.1,
    },
  });
  return rows;
}

export const suite: BenchSuite = {
  name: 'nightly-cost',
  description:
    'bytes scanned by each of 30 nights (late readings landing in old days): the incremental answer vs the full history',
  run,
};
