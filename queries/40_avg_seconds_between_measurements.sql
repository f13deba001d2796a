-- The analytics answer: the average number of seconds between two measurements of a vehicle, per vehicle
-- type, over every reading of sensor_data, read from its per-vehicle-day summary (38_vehicle_day_intervals.sql):
-- one row per day, vehicle and run instead of every reading of every night before (docs/decisions/0088). The
-- answer is the one the same steps over sensor_data itself give, to the last bit
-- (tests/integration/duckdb/incremental-answer.test.ts compares them after 30 nights with late readings).
-- * Only readings with a value count as measurements; nulls are removed first (38 leaves them out), so a null
--   reading does not split an interval in two.
-- * Intervals are taken within one UTC day (GROUP BY days): the gap from the last reading of a day to the
--   first of the next is not an interval between measurements of that day.
-- * The intervals of a vehicle's day, in time order, add up to its last timestamp minus its first, and there
--   are one fewer of them than readings. So a vehicle's average interval is the sum of its days' spans over
--   the sum of its days' interval counts: the same number as LEAD("timestamp") OVER (PARTITION BY days,
--   vehicle_id, vehicle_type ORDER BY "timestamp") averaged, without sorting every reading (docs/decisions/0052).
-- * A day's first and last reading and its count are the min, max and sum of those of the runs that brought
--   readings of it (a reading recorded late is brought by a later night), hence the first GROUP BY. All three
--   are exact integers, so the span and the count are the very numbers sensor_data gives.
-- * The span is converted to double before dividing: Trino would otherwise divide bigint by integer as
--   integers and drop the milliseconds (and 1000.0 is a decimal literal in Trino, rounding to its scale).
-- * Each vehicle's intervals are averaged first, then the vehicles of a type, so a vehicle that reports
--   often does not outweigh the others. Vehicles with no interval (one reading a day) are not counted.
-- * The same data gives the same answer, to the last bit, on every run: a vehicle's average is one division
--   of two exact integer sums, and the vehicles' averages are added as decimal(38, 12) (exact, so the order
--   in which parallel workers add them cannot change the sum, as it does with doubles), then divided once by
--   their count. Each vehicle's average is rounded to a picosecond for that sum; avg() over the doubles
--   changed its last digits from run to run on DuckDB, and would on Athena, for the same reason.
WITH vehicle_days AS (
  SELECT
    vehicle_id,
    vehicle_type,
    max(last_ms) - min(first_ms) AS span_ms,
    sum(measurements) - 1 AS intervals
  FROM ${database}.vehicle_day_intervals
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
