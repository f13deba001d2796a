-- vehicles_data: every vehicle ever fetched, as Parquet/Snappy partitioned by vehicle_type.
--
-- The table is created once, empty (WITH NO DATA), and each night's vehicles are appended by INSERT INTO:
-- a CTAS WITH DATA could only ever run on the first night. IF NOT EXISTS makes the CTAS a no-op on later
-- nights (Athena engine v3 takes Trino's CREATE TABLE IF NOT EXISTS ... AS; it would otherwise refuse a
-- second CTAS into a location that already holds data). The schema is spelled out with typed NULLs so that
-- it is declared in one place and creating the table reads no raw data.
-- Partition columns come last, in the order of partitioned_by, in every SELECT that feeds the table.
CREATE TABLE IF NOT EXISTS ${database}.vehicles_data
WITH (
  format = 'PARQUET',
  write_compression = 'SNAPPY',
  partitioned_by = ARRAY['vehicle_type'],
  external_location = '${warehouse_location}/vehicles_data/'
)
AS SELECT
  CAST(NULL AS varchar) AS vehicle_id,
  CAST(NULL AS timestamp) AS created_at,
  CAST(NULL AS varchar) AS vehicle_type
WITH NO DATA;

-- This run's vehicles. One nightly run writes a handful of vehicle_type partitions, far below Athena's
-- 100 partitions per INSERT. created_at is ISO 8601 in UTC ('...Z'); stored as a UTC timestamp.
-- Re-running a run must not append its vehicles twice, but INSERT INTO only appends: the query engine
-- replaces the files the run wrote before (docs/decisions/0020): locally the run's own Parquet files
-- (services/adapters/local/duckdb/table-writer.ts), on Athena the files the run's earlier executions listed
-- in their data manifests (services/adapters/aws/athena-query-engine.ts).
INSERT INTO ${database}.vehicles_data
SELECT
  vehicle_id,
  CAST(from_iso8601_timestamp(created_at) AS timestamp) AS created_at,
  vehicle_type
FROM ${database}.raw_vehicles
WHERE run = '${run_id}';
