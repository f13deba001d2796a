import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * queries/38_vehicle_day_intervals.sql summarises exactly the rows queries/30_sensor_data.sql writes for a run
 * (docs/decisions/0088): the same raw rows of the run, joined to the same one type per vehicle, filed under the
 * same day. The answer equals the full recomputation only while that holds, so an edit to one file's join, day or
 * run filter that the other does not get fails here, before a night's answer drifts from its data.
 */
const queries = join(process.cwd(), 'queries');
const sensorData = readFileSync(join(queries, '30_sensor_data.sql'), 'utf8');
const summary = readFileSync(join(queries, '38_vehicle_day_intervals.sql'), 'utf8');

/** The text of the one match of `pattern` in the file's SQL (comments left out), or a failure naming what. */
function only(sql: string, pattern: RegExp, what: string): string {
  const code = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  const matches = [...code.matchAll(new RegExp(pattern.source, 'g'))].map((match) => match[0]);
  if (matches.length !== 1) throw new Error(`expected one ${what}, found ${matches.length}`);
  return matches[0] ?? '';
}

const VEHICLE_JOIN =
  /FROM \$\{database\}\.run_sensor_readings AS r\nJOIN \([\s\S]*?\n\) AS v\n {2}ON v\.vehicle_id = r\.vehicle_id/;
const DAY = /\n {2}\S.* AS days,?\n/;
const THIS_RUN = /WHERE r\.run = '\$\{run_id\}'/;

describe('the summary of queries/38 reads the rows queries/30 writes', () => {
  it('joins the run raw readings to the vehicles with the same subquery, character for character', () => {
    const join30 = only(sensorData, VEHICLE_JOIN, 'vehicle join in 30');
    expect(join30).toContain('max(created_at)');
    expect(only(summary, VEHICLE_JOIN, 'vehicle join in 38')).toBe(join30);
  });

  it('files a reading under the same day, and reads this run only', () => {
    const day30 = only(sensorData, DAY, 'day in 30').trim().replace(/,$/, '');
    expect(day30).toBe('CAST(date(from_unixtime(r."timestamp" / 1000)) AS date) AS days');
    expect(only(summary, DAY, 'day in 38').trim().replace(/,$/, '')).toBe(day30);
    expect(only(sensorData, THIS_RUN, 'run filter in 30')).toBe(only(summary, THIS_RUN, 'run filter in 38'));
  });

  it('counts only readings with a value, as the answer does', () => {
    expect(only(summary, /AND r\.sensor_value IS NOT NULL/, 'null filter in 38')).toBeTruthy();
  });
});
