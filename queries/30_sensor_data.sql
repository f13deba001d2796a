-- sensor_data: every reading of a known vehicle, as Parquet/Snappy partitioned by the UTC day it was
-- measured and by vehicle type. Created once, empty; filled night by night (see 20_vehicles_data.sql).
CREATE TABLE IF NOT EXISTS ${database}.sensor_data
WITH (
  format = 'PARQUET',
  write_compression = 'SNAPPY',
  partitioned_by = ARRAY['days', 'vehicle_type'],
  external_location = '${warehouse_location}/sensor_data/'
)
AS SELECT
  CAST(NULL AS varchar) AS vehicle_id,
  CAST(NULL AS bigint) AS "timestamp",
  CAST(NULL AS double) AS sensor_value,
  CAST(NULL AS date) AS days,
  CAST(NULL AS varchar) AS vehicle_type
WITH NO DATA;

-- This run's readings.
-- * days is the UTC day the reading was MEASURED, not the day it was fetched: a reading recorded late lands
--   in the partition of the day it belongs to. "timestamp" / 1000 is Trino integer division (whole
--   seconds), which is all a day needs; Athena sessions are in UTC, so date(from_unixtime(...)) is the UTC day.
-- * The join is against ALL of vehicles_data, not only this run's vehicles: a vehicle fetched on an earlier
--   night stays joinable. It is an INNER join on purpose: readings of vehicles that are not (yet) in
--   vehicles_data are dropped, since they have no vehicle_type to be partitioned and analysed by. A reading
--   that arrives before its vehicle is therefore not picked up by a later run.
-- * Vehicles are reduced to one row per vehicle_id (its most recently created type) so that a vehicle
--   fetched twice, by overlapping windows or a replay, cannot duplicate its readings through the join.
-- * A nightly run writes a few days times a few vehicle types. A backfill window of many days may write more
--   than Athena's 100 partitions per INSERT; the Athena engine then runs the INSERT as several of up to 100
--   partitions each (services/adapters/aws/athena-partition-batches.ts), so this file need not care.
INSERT INTO ${database}.sensor_data
SELECT
  r.vehicle_id,
  r."timestamp",
  r.sensor_value,
  CAST(date(from_unixtime(r."timestamp" / 1000)) AS date) AS days,
  v.vehicle_type
FROM ${database}.raw_sensor_readings AS r
JOIN (
  SELECT vehicle_id, max_by(vehicle_type, created_at) AS vehicle_type
  FROM ${database}.vehicles_data
  GROUP BY vehicle_id
) AS v
  ON v.vehicle_id = r.vehicle_id
WHERE r.run = '${run_id}';
