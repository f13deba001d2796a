-- A check, not an answer: a file whose name after the number starts with check_ must return no rows, or the run
-- fails here, before the tables meant for analysis are written (only 12's working copy is), naming the first rows it found
-- (services/query-runner/run-checks.ts). Add a file like this one to gate a night on your own rule.
--
-- Rows repeated across this run's pages. Pages are offset slices of one ordered list, so a row stored twice means
-- the API answered some rows again on another page: it ignores the page parameter, or its order is not stable
-- from one request to the next. As many other rows were then never fetched, so the night cannot be counted,
-- neither with the repeats nor without them; run it again once the API pages reliably.
-- * A reading is one vehicle at one instant; a vehicle is one row per id, type and creation time. A snapshot of
--   the vehicles (snapshot: every-night) lists each vehicle once per night, so it passes.
-- * This run's rows only: its readings from run_sensor_readings (12_run_sensor_readings.sql, the raw rows one for
--   one), its vehicles from the raw pages (the injected `run` partition).
SELECT dataset, vehicle_id, row_key, copies
FROM (
  SELECT 'sensors' AS dataset, vehicle_id, CAST("timestamp" AS varchar) AS row_key, count(*) AS copies
  FROM ${database}.run_sensor_readings
  WHERE run = '${run_id}'
  GROUP BY vehicle_id, "timestamp"
  HAVING count(*) > 1
  UNION ALL
  SELECT 'vehicles' AS dataset, vehicle_id, created_at AS row_key, count(*) AS copies
  FROM ${database}.raw_vehicles
  WHERE run = '${run_id}'
  GROUP BY vehicle_id, vehicle_type, created_at
  HAVING count(*) > 1
) AS repeated
ORDER BY copies DESC, dataset, vehicle_id, row_key
LIMIT 10;
