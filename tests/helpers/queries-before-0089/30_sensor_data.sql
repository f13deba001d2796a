-- queries/30_sensor_data.sql as it was before docs/decisions/0089 (its comments left out): vehicle_type named the
-- partition folder. tests/integration/duckdb/warehouse-migration.test.ts builds a state folder of that time with it.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.sensor_data (
  vehicle_id string,
  `timestamp` bigint,
  sensor_value double
)
PARTITIONED BY (days date, vehicle_type string)
STORED AS PARQUET
LOCATION '${warehouse_location}/sensor_data/'
TBLPROPERTIES ('parquet.compression' = 'SNAPPY');

INSERT INTO ${database}.sensor_data
SELECT
  r.vehicle_id,
  r."timestamp",
  r.sensor_value,
  CAST(date(from_unixtime(r."timestamp" / 1000)) AS date) AS days,
  v.vehicle_type
FROM ${database}.raw_sensor_readings AS r
JOIN (
  SELECT d.vehicle_id, max(d.vehicle_type) AS vehicle_type
  FROM ${database}.vehicles_data AS d
  JOIN (
    SELECT vehicle_id, max(created_at) AS created_at
    FROM ${database}.vehicles_data
    GROUP BY vehicle_id
  ) AS latest
    ON latest.vehicle_id = d.vehicle_id AND latest.created_at = d.created_at
  GROUP BY d.vehicle_id
) AS v
  ON v.vehicle_id = r.vehicle_id
WHERE r.run = '${run_id}';
