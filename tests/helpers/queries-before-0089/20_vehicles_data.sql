-- queries/20_vehicles_data.sql as it was before docs/decisions/0089 (its comments left out): vehicle_type named the
-- partition folder. tests/integration/duckdb/warehouse-migration.test.ts builds a state folder of that time with it.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.vehicles_data (
  vehicle_id string,
  created_at timestamp
)
PARTITIONED BY (vehicle_type string)
STORED AS PARQUET
LOCATION '${warehouse_location}/vehicles_data/'
TBLPROPERTIES ('parquet.compression' = 'SNAPPY');

INSERT INTO ${database}.vehicles_data
SELECT
  vehicle_id,
  CAST(from_iso8601_timestamp(created_at) AS timestamp) AS created_at,
  vehicle_type
FROM ${database}.raw_vehicles
WHERE run = '${run_id}';
