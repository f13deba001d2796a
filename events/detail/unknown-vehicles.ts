import * as z from 'zod';

/**
 * The run's readings whose vehicle is not in vehicles_data, which the sensor join drops
 * (queries/30_sensor_data.sql), counted by queries/35_unknown_vehicle_readings.sql.
 */
export const UnknownVehiclesSchema = z.object({
  /** Readings the run downloaded. */
  readings: z.number().int().min(0),
  /** Of those, readings of a vehicle not in vehicles_data: dropped by the join. */
  unknownVehicleReadings: z.number().int().min(0),
  /** Distinct vehicle ids among them. */
  unknownVehicles: z.number().int().min(0),
});
export type UnknownVehicles = z.infer<typeof UnknownVehiclesSchema>;
