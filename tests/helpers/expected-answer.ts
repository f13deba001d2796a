import type { SensorRow, VehicleRow } from '../../services/shared/rows.js';

export interface ExpectedRow {
  vehicle_type: string;
  avg_seconds_between_measurements: number;
  vehicles: number;
}

/**
 * The analytics answer computed in plain TypeScript, independently of any SQL engine, from the definition:
 * readings with a value, of vehicles known from the vehicles list, grouped by (UTC measurement day, vehicle);
 * within a group, the gap from each reading to the next in time; averaged per vehicle, then per vehicle type.
 */
export function expectedAnswer(vehicles: Iterable<VehicleRow>, readings: Iterable<SensorRow>): ExpectedRow[] {
  const typeOf = new Map<string, string>();
  for (const v of vehicles) typeOf.set(v.vehicle_id, v.vehicle_type);

  const groups = new Map<string, number[]>();
  for (const r of readings) {
    if (r.sensor_value === null || !typeOf.has(r.vehicle_id)) continue;
    // Trino: date(from_unixtime(timestamp / 1000)) with integer division, i.e. the UTC day of the second.
    const day = Math.floor(Math.trunc(r.timestamp / 1000) / 86_400);
    const key = `${day}|${r.vehicle_id}`;
    const list = groups.get(key) ?? [];
    list.push(r.timestamp);
    groups.set(key, list);
  }

  const perVehicle = new Map<string, { sum: number; n: number }>();
  for (const [key, timestamps] of groups) {
    const vehicle = key.slice(key.indexOf('|') + 1);
    timestamps.sort((a, b) => a - b);
    const acc = perVehicle.get(vehicle) ?? { sum: 0, n: 0 };
    for (let i = 0; i + 1 < timestamps.length; i += 1) {
      acc.sum += ((timestamps[i + 1] ?? 0) - (timestamps[i] ?? 0)) / 1000;
      acc.n += 1;
    }
    perVehicle.set(vehicle, acc);
  }

  const perType = new Map<string, { sum: number; n: number }>();
  for (const [vehicle, { sum, n }] of perVehicle) {
    if (n === 0) continue;
    const type = typeOf.get(vehicle) ?? '?';
    const acc = perType.get(type) ?? { sum: 0, n: 0 };
    acc.sum += sum / n;
    acc.n += 1;
    perType.set(type, acc);
  }

  return [...perType.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([vehicle_type, { sum, n }]) => ({
      vehicle_type,
      avg_seconds_between_measurements: sum / n,
      vehicles: n,
    }));
}
