import * as z from 'zod';
import { type UnknownVehicles, UnknownVehiclesSchema } from '../../events/index.js';
import type { ResultSet } from '../ports/query-engine.js';
import { TerminalError } from '../shared/errors.js';

/**
 * Query names whose result is a count about the run rather than an answer: carried in the run's events and its
 * summary, not listed among the results (nor charted). One for now: the readings the sensor join drops.
 */
export const UNKNOWN_VEHICLES_QUERY = 'unknown_vehicle_readings';

/** A count as the engines give it: a number, or text beyond 2^53 (services/adapters/local/duckdb/result-set.ts). */
const Count = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);

const UnknownVehiclesRowSchema = z.object({
  readings: Count,
  unknown_vehicle_readings: Count,
  unknown_vehicles: Count,
});

/** The file's one row as the event's counts; a file of that name that does not give it fails the run, saying why. */
export function unknownVehiclesOf(file: string, result: ResultSet | undefined): UnknownVehicles {
  const row = UnknownVehiclesRowSchema.safeParse(result?.rows.length === 1 ? result.rows[0] : undefined);
  if (!row.success) {
    throw new TerminalError(
      `${file} must end with a query of one row with readings, unknown_vehicle_readings and unknown_vehicles ` +
        `(whole numbers); got ${result === undefined ? 'no result set' : `${result.rows.length} row(s) with columns ${result.columns.join(', ')}`}`,
      { cause: row.error },
    );
  }
  return UnknownVehiclesSchema.parse({
    readings: row.data.readings,
    unknownVehicleReadings: row.data.unknown_vehicle_readings,
    unknownVehicles: row.data.unknown_vehicles,
  });
}
