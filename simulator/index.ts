export { type CreationWindow, creationWindow } from './creation-window.js';
export { DEFAULT_FLEET, FleetWorld, type FleetWorldOptions } from './fleet-world.js';
export { MAX_PAGE_SIZE } from './page-query.js';
export {
  type RunningSimulator,
  SIMULATOR_PATHS,
  type SimulatorOptions,
  startSimulator,
} from './server.js';
export type { SimulatorStats } from './simulator-stats.js';
export { UNKNOWN_VEHICLE_IDS } from './unknown-vehicles.js';
export { JITTER_MS } from './vehicle-day-plan.js';
export { SAMPLING_INTERVAL_MS, VEHICLE_TYPES, type VehicleType } from './vehicle-roster.js';
