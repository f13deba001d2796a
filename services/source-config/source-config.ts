import type { Dataset } from '../../events/index.js';
import type {
  AuthConfig,
  Checks,
  DateFilter,
  HeaderValues,
  QueryNames,
  RateBudget,
  RetryConfig,
  RowsMapping,
  SnapshotMode,
} from './schema.js';

/** A dot path split into keys: `meta.total_pages` → ['meta', 'total_pages']. */
export type JsonPath = readonly string[];

/** Where a page's parts are, as the parser uses them. */
export interface PageShape {
  rowsPath: JsonPath;
  /** The envelope field that says how big the window is: a page count, or an item count to divide. */
  total: { path: JsonPath; counts: 'pages' | 'items' };
  /** The echoed page number, when the API sends one. */
  pagePath: JsonPath | undefined;
}

/** Client credentials with the token URL made absolute. */
export type ClientCredentialsAuth = AuthConfig;

/** Everything needed to fetch one dataset, resolved: absolute URLs, every default filled in. */
export interface DatasetSource {
  dataset: Dataset;
  /** Absolute URL of the dataset's endpoint. */
  endpoint: string;
  auth: ClientCredentialsAuth;
  /** Extra headers of every page request (schema.ts HeadersSchema): values, or secrets by name. */
  headers: HeaderValues;
  /** Rows asked per page. */
  pageSize: number;
  /** The most pages a night may plan (schema.ts). */
  maxPages: number;
  /** The most rows a night may plan: pages × page size, or the API's count of rows (schema.ts). */
  maxRows: number;
  query: QueryNames;
  dateFilter: DateFilter;
  /** When the dataset is fetched whole, without the date filters (schema.ts). */
  snapshot: SnapshotMode;
  shape: PageShape;
  rows: RowsMapping;
  /** What is checked of the API's answers beyond their shape (schema.ts ChecksPatchSchema). */
  checks: Checks;
}

/** A validated source configuration (from `etl.config.json`, the environment, or the built-in simulator). */
export interface SourceConfig {
  datasets: Readonly<Record<Dataset, DatasetSource>>;
  rateBudget: RateBudget;
  retry: RetryConfig;
  requestTimeoutMs: number;
  window: { timeZone: string };
}

export function splitPath(path: string): JsonPath {
  return path.split('.');
}
