export { type CreationWindow, creationWindow } from './creation-window.js';
export {
  type FailingPage,
  FailingPageSchema,
  type FaultOptions,
  FaultOptionsSchema,
} from './faults.js';
export { type FleetRow, FleetWorld, type FleetWorldOptions, FleetWorldOptionsSchema } from './fleet-world.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './page-query.js';
export {
  type RunningSimulator,
  SIMULATOR_PATHS,
  type SimulatorOptions,
  SimulatorOptionsSchema,
  startSimulator,
} from './server.js';
export type { EarlyRequest, SimulatorEndpoint, SimulatorStats } from './simulator-stats.js';
export { UNKNOWN_VEHICLE_IDS } from './unknown-vehicles.js';
export { JITTER_MS, LATE_CREATED_SHARE, NULL_VALUE_SHARE } from './vehicle-day-plan.js';
export { SAMPLING_INTERVAL_MS, VEHICLE_TYPES, type VehicleType } from './vehicle-roster.js';
