import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JsonValue, ResultSet } from '../../../services/ports/query-engine.js';
import { renderPlaceholders } from '../../../services/shared/sql-text.js';
import { landNight, type Night, nightsWithLateReadings } from '../../helpers/nights-with-late-readings.js';
import { expectedAverages } from './fleet-fixture.js';
import { type LocalLake, localLake, query, runQueryFiles } from './run-queries.js';

/**
 * The answer kept from the per-vehicle-day summary (queries/38 and 40) is the answer recomputed from the whole of
 * sensor_data (the old queries/40, tests/helpers/full-history-answer.sql), to the last bit: after each of 30
 * nights whose readings land late in old days (before, inside and after what those days held), repeat earlier
 * readings, belong to vehicles listed only later or to a vehicle that changes type; and after nights are run
 * again, in any order, with the same pages or with pages the API changed meanwhile (docs/decisions/0088).
 */

const NIGHTS = 30;

async function fullHistoryAnswer(lake: LocalLake): Promise<Record<string, JsonValue>[]> {
  const text = await readFile(join(process.cwd(), 'tests', 'helpers', 'full-history-answer.sql'), 'utf8');
  return query(
    lake.engine,
    renderPlaceholders(text, {
      database: 'fleet',
      raw_location: pathToFileURL(lake.rawRoot).href,
      warehouse_location: pathToFileURL(lake.warehouseRoot).href,
      run_id: 'adhoc',
      run_date: 'adhoc',
    }),
  );
}

const SUMMARY = `SELECT days, vehicle_id, vehicle_type, first_ms, last_ms, measurements, run
FROM fleet.vehicle_day_intervals ORDER BY days, vehicle_id, vehicle_type, run`;

describe('the analytics answer kept night by night, against the whole history recomputed', () => {
  const nights = nightsWithLateReadings({
    nights: NIGHTS,
    vehicles: 30,
    readingsPerVehicle: 40,
    firstDay: '2026-10-01',
    pageSize: 500,
    seed: 88,
  });
  let lake: LocalLake;
  const answers: { night: string; incremental: ResultSet; full: Record<string, JsonValue>[] }[] = [];

  beforeAll(async () => {
    lake = await localLake();
    for (const night of nights) {
      await landNight(lake.rawRoot, night);
      const incremental = await runQueryFiles(lake, night.runId);
      answers.push({ night: night.runId, incremental, full: await fullHistoryAnswer(lake) });
    }
  }, 300_000);

  afterAll(async () => {
    await lake?.engine.close();
    if (lake) await rm(lake.root, { recursive: true, force: true });
  });

  it('lands readings of later nights in days earlier nights had already summarised', async () => {
    const shared = await query(
      lake.engine,
      `SELECT count(*) AS days FROM (
         SELECT days FROM fleet.vehicle_day_intervals GROUP BY days HAVING count(DISTINCT run) > 1)`,
    );
    // Late readings reach back up to 5 days: most days are written by more than one night.
    expect(shared).toEqual([{ days: expect.any(Number) }]);
    expect(Number(shared[0]?.days)).toBeGreaterThan(NIGHTS / 2);
    // And some of them move a vehicle-day's first or last reading (not only its count).
    const moved = await query(
      lake.engine,
      `SELECT count(*) AS moved FROM (
         SELECT days, vehicle_id FROM fleet.vehicle_day_intervals GROUP BY days, vehicle_id
         HAVING min(first_ms) < max(first_ms) AND count(DISTINCT run) > 1)`,
    );
    expect(Number(moved[0]?.moved)).toBeGreaterThan(0);
  });

  it('gives after every night exactly the answer the whole history gives, bit for bit', () => {
    expect(answers).toHaveLength(NIGHTS);
    for (const { night, incremental, full } of answers) {
      expect({ night, rows: incremental.rows }).toEqual({ night, rows: full });
      expect(full.length).toBeGreaterThan(0);
    }
    // The answer moves as nights come: the comparison is not between two constants.
    expect(answers[NIGHTS - 1]?.full).not.toEqual(answers[0]?.full);
  });

  it('matches an independent computation in TypeScript after the 30 nights', () => {
    const last = answers[NIGHTS - 1]?.incremental.rows ?? [];
    const expected = expectedAverages(nights);
    expect(last.map((row) => [row.vehicle_type, row.vehicles])).toEqual(
      expected.map((row) => [row.vehicle_type, row.vehicles]),
    );
    last.forEach((row, index) => {
      expect(row.avg_seconds_between_measurements).toBeCloseTo(
        expected[index]?.avg_seconds_between_measurements ?? Number.NaN,
        9,
      );
    });
  });

  it('is unchanged, to the last bit, when old nights are run again with the same pages', async () => {
    const summaryBefore = await query(lake.engine, SUMMARY);
    const before = answers[NIGHTS - 1]?.incremental.rows;
    // Nights after the middle one: their vehicles have the types they had (see the last test for the others).
    for (const index of [27, 16, 29]) {
      const night = nights[index] as Night;
      expect((await runQueryFiles(lake, night.runId)).rows).toEqual(before);
    }
    expect(await query(lake.engine, SUMMARY)).toEqual(summaryBefore);
  }, 60_000);

  it('follows the whole history when an old night is run again after the API changed its pages', async () => {
    const night = nights[20] as Night;
    const summaryBefore = await query(lake.engine, SUMMARY);
    const before = answers[NIGHTS - 1]?.incremental.rows;
    // Half its readings gone, and one vehicle's readings moved 9 days back (late readings now).
    const readings = night.sensorPages.flat();
    const kept = readings.slice(0, Math.floor(readings.length / 2));
    const moved = readings
      .filter((row) => row.vehicle_id === 'V00000')
      .map((row) => ({ ...row, timestamp: row.timestamp - 9 * 86_400_000 }));
    await landNight(lake.rawRoot, { ...night, sensorPages: [kept, moved] });
    const changed = await runQueryFiles(lake, night.runId);
    expect(changed.rows).toEqual(await fullHistoryAnswer(lake));
    expect(changed.rows).not.toEqual(before);

    // And back: the original pages give the original summary and answer again.
    await landNight(lake.rawRoot, night);
    expect((await runQueryFiles(lake, night.runId)).rows).toEqual(before);
    expect(await query(lake.engine, SUMMARY)).toEqual(summaryBefore);
  }, 60_000);

  it('types the readings of a night run again after a vehicle changed type alike in both forms', async () => {
    // V00004 was a van until the middle night, a truck since: night 4 run again joins its readings to the
    // vehicle's type now, in sensor_data (30) as in the summary (38).
    const before = answers[NIGHTS - 1]?.incremental.rows;
    const again = await runQueryFiles(lake, (nights[3] as Night).runId);
    expect(again.rows).not.toEqual(before);
    expect(again.rows).toEqual(await fullHistoryAnswer(lake));
  }, 60_000);
});
