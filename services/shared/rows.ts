import { z } from 'zod';
import type { Dataset } from '../../events/index.js';

const instant = z.iso.datetime({ offset: false });

/** A vehicle as the fleet API lists it; `created_at` is what the API's creation-date filters apply to. */
export const VehicleRowSchema = z.object({
  vehicle_id: z.string().min(1).max(64),
  vehicle_type: z.string().min(1).max(64),
  created_at: instant,
});
export type VehicleRow = z.infer<typeof VehicleRowSchema>;

/**
 * A sensor reading. `timestamp` is when it was measured (epoch milliseconds), `created_at` when the API
 * recorded it: a reading may be created a day after it was measured, so it is fetched in a later window.
 */
export const SensorRowSchema = z.object({
  vehicle_id: z.string().min(1).max(64),
  timestamp: z.number().int().min(0),
  sensor_value: z.number().finite().nullable(),
  created_at: instant,
});
export type SensorRow = z.infer<typeof SensorRowSchema>;

export const rowSchemas = {
  vehicles: VehicleRowSchema,
  sensors: SensorRowSchema,
} as const satisfies Record<Dataset, z.ZodType>;
