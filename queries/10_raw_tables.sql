-- The raw lake as Athena sees it: one external table per dataset over the NDJSON pages the downloader
-- lands at ${raw_location}/<dataset>/run=<run_id>/page-NNNNN.ndjson (services/shared/lake-keys.ts).
--
-- Partition projection with an injected `run` partition: Athena computes the folder of a run from the
-- template instead of asking Glue, so a new run needs no MSCK REPAIR or ALTER TABLE ADD PARTITION. The
-- price: every query must filter on `run` with a literal (WHERE run = '${run_id}'), which ours do.
-- https://docs.aws.amazon.com/athena/latest/ug/partition-projection-dynamic-id-partitioning.html
-- `$${run}` is an escape: it renders as Athena's own run placeholder (services/shared/sql-text.ts).

CREATE DATABASE IF NOT EXISTS ${database};

-- Shapes: services/shared/rows.ts (VehicleRow). created_at stays text here; the warehouse tables type it.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.raw_vehicles (
  vehicle_id string,
  vehicle_type string,
  created_at string
)
PARTITIONED BY (run string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '${raw_location}/vehicles/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.run.type' = 'injected',
  'storage.location.template' = '${raw_location}/vehicles/run=$${run}/'
);

-- SensorRow: `timestamp` is when the reading was measured, in epoch milliseconds; `created_at` is when the
-- API recorded it (a reading may be recorded a day after it was measured). A null sensor_value is kept.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.raw_sensor_readings (
  vehicle_id string,
  `timestamp` bigint,
  sensor_value double,
  created_at string
)
PARTITIONED BY (run string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '${raw_location}/sensors/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.run.type' = 'injected',
  'storage.location.template' = '${raw_location}/sensors/run=$${run}/'
);
