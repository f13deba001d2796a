-- vehicles_data: every vehicle ever fetched, as Parquet/Snappy partitioned by vehicle_type.
--
-- The table is declared once, empty, and each night's vehicles are appended by INSERT INTO; IF NOT EXISTS
-- makes the declaration a no-op on later nights. It is a Hive DDL table, not a CTAS: the Athena workgroup
-- enforces its configuration (infra/constructs/analytics.ts), and under an enforced workgroup a CTAS cannot
-- say where its table lives (external_location fails the query; without it the table would land under the
-- workgroup's query-result location, /tables/<query-id>/)
-- (https://docs.aws.amazon.com/athena/latest/ug/considerations-ctas.html). A declared LOCATION is the
-- table's own; INSERT INTO writes there and adds the partitions it writes to the Glue catalog
-- (docs/decisions/0076).
-- * Compression: INSERT INTO a Hive Parquet table compresses as the table property 'parquet.compression' says,
--   GZIP when it is absent; 'write.compression' is for text and JSON tables only, and write_compression is a
--   CTAS WITH property, not a table property
--   (https://docs.aws.amazon.com/athena/latest/ug/alter-table-set-tblproperties.html,
--   https://docs.aws.amazon.com/athena/latest/ug/compression-formats.html).
-- * Hive types: string is Trino's varchar, timestamp is timestamp. Partition columns are declared apart
--   (PARTITIONED BY) and come after the others, in that order, in the table and in every SELECT that feeds it.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.vehicles_data (
  vehicle_id string,
  created_at timestamp
)
PARTITIONED BY (vehicle_type string)
STORED AS PARQUET
LOCATION '${warehouse_location}/vehicles_data/'
TBLPROPERTIES ('parquet.compression' = 'SNAPPY');

-- This run's vehicles. One nightly run writes a handful of vehicle_type partitions, far below Athena's
-- 100 partitions per INSERT. created_at is ISO 8601 in UTC ('...Z'); stored as a UTC timestamp.
-- Re-running a run must not append its vehicles twice, but INSERT INTO only appends: the query engine
-- replaces the files the run wrote before (docs/decisions/0020): locally the run's own Parquet files
-- (services/adapters/local/duckdb/table-writer.ts), on Athena the files the run's earlier executions listed
-- in their data manifests (services/adapters/aws/athena/query-engine.ts).
INSERT INTO ${database}.vehicles_data
SELECT
  vehicle_id,
  CAST(from_iso8601_timestamp(created_at) AS timestamp) AS created_at,
  vehicle_type
FROM ${database}.raw_vehicles
WHERE run = '${run_id}';
