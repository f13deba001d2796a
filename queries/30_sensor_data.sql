-- sensor_data: every reading of a known vehicle, as Parquet/Snappy partitioned by the UTC day it was
-- measured and by a key of its vehicle type. Declared once, empty, as a Hive DDL table; filled night by night
-- (see 20_vehicles_data.sql for why it is not a CTAS, for the compression property, and for vehicle_type as
-- data beside its partition key vehicle_type_key).
-- `timestamp` is a reserved word in Hive DDL, hence the backticks (Trino's double quotes in the queries).
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.sensor_data (
  vehicle_id string,
  `timestamp` bigint,
  sensor_value double,
  vehicle_type string
)
PARTITIONED BY (days date, vehicle_type_key string)
STORED AS PARQUET
LOCATION '${warehouse_location}/sensor_data/'
TBLPROPERTIES ('parquet.compression' = 'SNAPPY');

-- This run's readings (run_sensor_readings: the raw rows of the run, typed, 12_run_sensor_readings.sql).
-- * days is the UTC day the reading was MEASURED, not the day it was fetched: a reading recorded late lands
--   in the partition of the day it belongs to. "timestamp" / 1000 is Trino integer division (whole
--   seconds), which is all a day needs; Athena sessions are in UTC, so date(from_unixtime(...)) is the UTC day.
-- * The join is against ALL of vehicles_data, not only this run's vehicles: a vehicle fetched on an earlier
--   night stays joinable. It is an INNER join on purpose: readings of vehicles that are not (yet) in
--   vehicles_data are dropped, since they have no vehicle_type to be partitioned and analysed by. A reading
--   that arrives before its vehicle is therefore not picked up by a later run.
-- * Vehicles are reduced to one row per vehicle_id (its most recently created type) so that a vehicle
--   fetched twice, by overlapping windows or a replay, cannot duplicate its readings through the join. Two rows
--   of one vehicle created at the same instant with different types (an API's mistake) resolve to the greatest
--   type, not to whichever row an engine happens to read first (max_by leaves ties to the engine), so the same
--   data always gives the same partitions and the same answer.
-- * vehicle_type_key is 20_vehicles_data.sql's key of the type, the same expression (partitionKeySql in
--   services/shared/lake-keys.ts), so a type's readings of every night land in the same partitions. It is
--   computed once per vehicle, inside v, not once per reading: at ten million readings the key's regexp per
--   reading cost about a second of CPU (docs/decisions/0097).
-- * A nightly run writes a few days times a few vehicle types. A backfill window of many days may write more
--   than Athena's 100 partitions per INSERT; the Athena engine then runs the INSERT as several of up to 100
--   partitions each (services/adapters/aws/athena/partition-batches.ts), so this file need not care.
INSERT INTO ${database}.sensor_data
SELECT
  r.vehicle_id,
  r."timestamp",
  r.sensor_value,
  v.vehicle_type,
  CAST(date(from_unixtime(r."timestamp" / 1000)) AS date) AS days,
  v.vehicle_type_key
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
WHERE r.run = '${run_id}';
