export {
  type DownloaderScaling,
  downloaderScaling,
  instanceBudget,
  MIN_EVENT_SOURCE_CONCURRENCY,
} from './cloud-scaling.js';
export {
  type SourceEnvironment,
  SourceEnvironmentSchema,
  sourceConfigFromEnvironment,
} from './from-environment.js';
export {
  type ConfigIssue,
  loadSourceConfig,
  parseJsonText,
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
  type FilterBounds,
  filterBounds,
  localDay,
  nightlyWindowIn,
  scheduledTimeForDayIn,
  startOfDay,
  windowOfDay,
  windowRowFilter,
} from './windows.js';
