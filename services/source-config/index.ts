export {
  downloaderScaling,
  instanceBudget,
  MIN_EVENT_SOURCE_CONCURRENCY,
} from './cloud-scaling.js';
export { sourceConfigFromEnvironment } from './from-environment.js';
export {
  loadSourceConfig,
  parseSourceConfig,
  SourceConfigError,
} from './parse-source-config.js';
export * from './schema.js';
export { SEED_API_PATHS, type SeedApiOptions, seedApiConfig } from './seed-api.js';
export * from './source-config.js';
export {
  addDays,
  askedWindow,
  daysBetween,
  filterBounds,
  localDay,
  nightlyWindowIn,
  scheduledTimeForDayIn,
  windowOfDay,
  windowRowFilter,
} from './windows.js';
