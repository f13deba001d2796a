-- vehicle_day_intervals: what the analytics answer (40_avg_seconds_between_measurements.sql) needs of the
-- readings, one row per UTC day, vehicle, type and run: the first and last instant of the run's measurements of
-- that vehicle on that day, and how many there were. One row stands for about a thousand readings, so the answer
-- reads this table instead of all of sensor_data's history every night (docs/decisions/0088).
-- * Each night summarises its OWN readings only, read from this run's raw readings (run_sensor_readings, written
--   from the raw pages by 12_run_sensor_readings.sql), never an old partition of
--   sensor_data: a day's intervals come from the first and last measurement of the vehicle that day and from
--   their count, and min, max and count of a day are the min, max and sum of its runs' min, max and count.
--   So readings that land late in an old day add a row for that day under the later run, the day's earlier
--   rows stay as they are, and the answer merges them (GROUP BY days, vehicle_id, vehicle_type). Nothing is
--   replaced but the run's own files, which a re-run of the night replaces as it replaces its sensor_data files
--   (docs/decisions/0020), in any order of nights.
-- * The rows summarised are exactly the rows 30_sensor_data.sql wrote for this run: the same raw readings, the
--   same join (its subquery v, character for character, whose vehicle_type_key this file does not need;
--   tests/unit/queries/vehicle-day-intervals.test.ts checks it),
--   the same day; minus the readings without a value, which are not measurements (see 40).
-- * Written partitions: the days this run's readings were measured on, usually two, far below Athena's 100 per
--   INSERT (a backfill of many days is split by the Athena engine, as for sensor_data).
-- * A warehouse that holds nights from before this table existed has no rows here for them: run those nights
--   again (etl run --from ... --to ...) to give them their rows (docs/decisions/0088). `etl run` refuses such a
--   warehouse until they are, naming them (cli/unsummarised-nights.ts, docs/decisions/0094).
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.vehicle_day_intervals (
  vehicle_id string,
  vehicle_type string,
  first_ms bigint,
  last_ms bigint,
  measurements bigint,
  run string
)
PARTITIONED BY (days date)
STORED AS PARQUET
LOCATION '${warehouse_location}/vehicle_day_intervals/'
TBLPROPERTIES ('parquet.compression' = 'SNAPPY');

INSERT INTO ${database}.vehicle_day_intervals
SELECT
  r.vehicle_id,
  v.vehicle_type,
  min(r."timestamp") AS first_ms,
  max(r."timestamp") AS last_ms,
  count(*) AS measurements,
  r.run,
  CAST(date(from_unixtime(r."timestamp" / 1000)) AS date) AS days
FROM ${database}.run_sensor_readings AS r
JOIN (
  SELECT
    typed.vehicle_id,
    typed.vehicle_type,
    CASE
      WHEN length(typed.vehicle_type) BETWEEN 1 AND 64
        AND regexp_replace(typed.vehicle_type, '[^a-z0-9_-]', '') = typed.vehicle_type
        AND substr(typed.vehicle_type, 1, 1) <> '_'
        AND typed.vehicle_type <> 'null'
      THEN typed.vehicle_type
      ELSE '_' || substr(lower(to_hex(sha256(to_utf8(typed.vehicle_type)))), 1, 32)
    END AS vehicle_type_key
  FROM (
    SELECT d.vehicle_id, max(d.vehicle_type) AS vehicle_type
    FROM ${database}.vehicles_data AS d
    JOIN (
      SELECT vehicle_id, max(created_at) AS created_at
      FROM ${database}.vehicles_data
      GROUP BY vehicle_id
    ) AS latest
      ON latest.vehicle_id = d.vehicle_id AND latest.created_at = d.created_at
    GROUP BY d.vehicle_id
  ) AS typed
) AS v
  ON v.vehicle_id = r.vehicle_id
WHERE r.run = '${run_id}'
  AND r.sensor_value IS NOT NULL
GROUP BY CAST(date(from_unixtime(r."timestamp" / 1000)) AS date), r.vehicle_id, v.vehicle_type, r.run;
