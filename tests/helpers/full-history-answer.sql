-- The analytics answer recomputed from the whole of sensor_data: queries/40_avg_seconds_between_measurements.sql
-- as it was before the answer was kept incrementally (docs/decisions/0088), kept here as the reference the
-- incremental answer must equal to the last bit (tests/integration/duckdb/incremental-answer.test.ts) and what
-- the analytics bench times (bench/suites/analytics.ts). It reads every reading of every night.
WITH vehicle_days AS (
  SELECT
    vehicle_id,
    vehicle_type,
    max("timestamp") - min("timestamp") AS span_ms,
    count(*) - 1 AS intervals
  FROM ${database}.sensor_data
  WHERE sensor_value IS NOT NULL
  GROUP BY days, vehicle_id, vehicle_type
),
per_vehicle AS (
  SELECT
    vehicle_type,
    vehicle_id,
    CAST(sum(span_ms) AS double) / 1000 / sum(intervals) AS avg_seconds
  FROM vehicle_days
  WHERE intervals > 0
  GROUP BY vehicle_type, vehicle_id
)
SELECT
  vehicle_type,
  CAST(sum(CAST(avg_seconds AS decimal(38, 12))) AS double) / count(*) AS avg_seconds_between_measurements,
  count(*) AS vehicles
FROM per_vehicle
GROUP BY vehicle_type
ORDER BY vehicle_type;
