-- vehicles_data: every vehicle ever fetched, as Parquet/Snappy partitioned by a key of its vehicle_type.
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
-- * vehicle_type is data, stored as the API sent it; the partition folder is named after vehicle_type_key, the
--   type itself when it is plainly safe (`bus`, `semi-trailer`) and `_` and 32 hex digits of its SHA-256
--   otherwise (`Bus`, `NULL`, `__HIVE_DEFAULT_PARTITION__`, `a/../b`, long CJK text). A folder name of the type
--   itself would read back as NULL for some types, merge types that differ by case on some file systems, or be
--   too long for others (docs/decisions/0089). Query by vehicle_type; vehicle_type_key only picks partitions.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.vehicles_data (
  vehicle_id string,
  created_at timestamp,
  vehicle_type string
)
PARTITIONED BY (vehicle_type_key string)
STORED AS PARQUET
LOCATION '${warehouse_location}/vehicles_data/'
TBLPROPERTIES ('parquet.compression' = 'SNAPPY');

-- This run's vehicles. One nightly run writes a handful of type partitions, far below Athena's 100 partitions
-- per INSERT. created_at is ISO 8601 in UTC ('...Z'); stored as a UTC timestamp.
-- Re-running a run must not append its vehicles twice, but INSERT INTO only appends: the query engine
-- replaces the files the run wrote before (docs/decisions/0020): locally the run's own Parquet files
-- (services/adapters/local/duckdb/table-writer.ts), on Athena the files the run's earlier executions listed
-- in their data manifests (services/adapters/aws/athena/query-engine.ts).
-- The key's expression is services/shared/lake-keys.ts partitionKeySql, character for character, here and in
-- 30_sensor_data.sql (tests/unit/services/shared/partition-keys.test.ts).
INSERT INTO ${database}.vehicles_data
SELECT
  vehicle_id,
  CAST(from_iso8601_timestamp(created_at) AS timestamp) AS created_at,
  vehicle_type,
  CASE
    WHEN length(vehicle_type) BETWEEN 1 AND 64
      AND regexp_replace(vehicle_type, '[^a-z0-9_-]', '') = vehicle_type
      AND substr(vehicle_type, 1, 1) <> '_'
      AND vehicle_type <> 'null'
    THEN vehicle_type
    ELSE '_' || substr(lower(to_hex(sha256(to_utf8(vehicle_type)))), 1, 32)
  END AS vehicle_type_key
FROM ${database}.raw_vehicles
WHERE run = '${run_id}';
