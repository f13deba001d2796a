-- The analytics answer: the average number of seconds between two measurements of a vehicle, per vehicle
-- type, over the whole sensor_data table.
-- * Only readings with a value count as measurements; nulls are removed BEFORE LEAD, so a null reading
--   does not split an interval in two.
-- * Intervals are taken within one UTC day (PARTITION BY days): the gap from the last reading of a day to
--   the first of the next is not an interval between measurements of that day.
-- * The difference is converted to double before dividing: Trino would otherwise divide bigint by integer
--   as integers and drop the milliseconds (and 1000.0 is a decimal literal in Trino, rounding to its scale).
-- * Each vehicle's intervals are averaged first, then the vehicles of a type, so a vehicle that reports
--   often does not outweigh the others. Vehicles with no interval (one reading a day) are not counted.
WITH measurements AS (
  SELECT days, vehicle_id, vehicle_type, "timestamp"
  FROM ${database}.sensor_data
  WHERE sensor_value IS NOT NULL
),
intervals AS (
  SELECT
    vehicle_id,
    vehicle_type,
    CAST(
      LEAD("timestamp") OVER (PARTITION BY days, vehicle_id, vehicle_type ORDER BY "timestamp") - "timestamp"
      AS double
    ) / 1000 AS seconds_to_next
  FROM measurements
),
per_vehicle AS (
  SELECT vehicle_type, vehicle_id, avg(seconds_to_next) AS avg_seconds
  FROM intervals
  WHERE seconds_to_next IS NOT NULL
  GROUP BY vehicle_type, vehicle_id
)
SELECT
  vehicle_type,
  avg(avg_seconds) AS avg_seconds_between_measurements,
  count(*) AS vehicles
FROM per_vehicle
GROUP BY vehicle_type
ORDER BY vehicle_type;
