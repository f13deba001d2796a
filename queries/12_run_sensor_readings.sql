-- run_sensor_readings: this run's raw readings, typed, as Parquet/Snappy partitioned by run: the one read of the
-- night's raw pages. The files after it (the repeated-rows check 15, sensor_data 30, the unknown-vehicle count 35
-- and the summary 38) read the run's readings from here, not from the NDJSON pages (docs/decisions/0097).
-- * Why: each of those four read every raw page of the night. JSON is parsed whole whatever columns a query needs,
--   so the night paid for four parses of the pages; Parquet is read by column. At ten million readings on the
--   local engine this file and the four reads of it cost about 3.3 s of CPU less than the four reads of the pages.
--   On Athena the four files scan the few columns they need of this table instead of the whole pages
--   (DataScannedInBytes); Athena bills at least 10 MB a query, so the bill drops only once a night's raw pages
--   are well past 10 MB (at the default fleet's 11 MB it rises a little: one query more).
-- * Only the columns the files after it use; `created_at` stays in the raw pages (raw_sensor_readings) for
--   whoever needs it. The rows are the raw rows one for one: none is dropped, joined or changed here, so the
--   check 15 still sees every repeated row the API sent.
-- * Partitioned by run, so a night reads its own partition only (WHERE run = '${run_id}'), whatever the history.
--   A re-run of the night replaces the run's files, as every INSERT of a run does (docs/decisions/0020).
-- * Not a table to analyse: sensor_data is, and only once the checks have passed. It keeps every night's copy (about
--   a fifteenth of the pages' size); the local engine opens every night's file of it to read one night's (its
--   Parquet views union columns by name), a small cost that grows with the number of nights (decision 97).
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.run_sensor_readings (
  vehicle_id string,
  `timestamp` bigint,
  sensor_value double
)
PARTITIONED BY (run string)
STORED AS PARQUET
LOCATION '${warehouse_location}/run_sensor_readings/'
TBLPROPERTIES ('parquet.compression' = 'SNAPPY');

INSERT INTO ${database}.run_sensor_readings
SELECT vehicle_id, "timestamp", sensor_value, run
FROM ${database}.raw_sensor_readings
WHERE run = '${run_id}';
