-- How many of this run's readings the join in 30_sensor_data.sql dropped because their vehicle is not (yet) in
-- vehicles_data: a loss that is otherwise silent. The query runner reads this file's one row into the run's
-- EtlDone (`unknownVehicles`) instead of listing it among the answers (services/query-runner/run-counts.ts),
-- and `etl run` prints it and warns above 1%.
-- * Counted against ALL of vehicles_data, as the join is: a vehicle fetched on an earlier night is known.
-- * The run's readings as 30 reads them: run_sensor_readings (12_run_sensor_readings.sql).
-- * count(CASE ... END) rather than count_if or sum: the same on Trino and DuckDB, and 0, not NULL, for a run
--   without readings.
SELECT
  count(*) AS readings,
  count(CASE WHEN v.vehicle_id IS NULL THEN 1 END) AS unknown_vehicle_readings,
  count(DISTINCT CASE WHEN v.vehicle_id IS NULL THEN r.vehicle_id END) AS unknown_vehicles
FROM ${database}.run_sensor_readings AS r
LEFT JOIN (
  SELECT DISTINCT vehicle_id
  FROM ${database}.vehicles_data
) AS v
  ON v.vehicle_id = r.vehicle_id
WHERE r.run = '${run_id}';
