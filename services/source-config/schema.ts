import * as z from 'zod';

/**
 * The file a user writes to point fleet-etl at their own API (`etl.config.json`). Every section defaults to the
 * simulator's shape (the seed's API), so a config for an API that looks like it needs little more than URLs and
 * a client id. Objects are strict: a misspelt key is an error that names it, not a silently ignored setting.
 *
 * The sections `query`, `dateFilter`, `response`, `rows` and `checks` may be given at the top level (for every
 * dataset) and per dataset; they merge key by key, dataset over top level over default. `auth` is given whole at
 * either level.
 */

/** A dot path of object keys into a JSON body: `data`, `meta.total_pages`. Keys containing dots are not supported. */
const JsonPathSchema = z
  .string()
  .regex(/^[^.\s]+(\.[^.\s]+)*$/, 'expected a dot path of keys, e.g. "data" or "meta.total_pages"');

/** A URL, or a path resolved against `baseUrl`. */
const UrlOrPathSchema = z
  .string()
  .min(1, 'expected a URL or a path starting with /')
  .refine(
    (value) => value.startsWith('/') || (/^https?:\/\//.test(value) && URL.canParse(value)),
    'expected an http(s) URL or a path starting with /',
  );

const knownZones = new Set<string>();
function isTimeZone(zone: string): boolean {
  if (knownZones.has(zone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    return false;
  }
  knownZones.add(zone);
  return true;
}

const TimeZoneSchema = z
  .string()
  .refine(isTimeZone, 'expected an IANA time zone name, e.g. "UTC" or "Europe/Madrid"');

const paramName = z.string().min(1, 'expected a query parameter name');

/** Query parameter names; `timeZone: null` leaves that parameter out (an API without one). */
export const QueryNamesPatchSchema = z
  .strictObject({
    from: paramName,
    to: paramName,
    timeZone: paramName.nullable(),
    pageSize: paramName,
    page: paramName,
    /** Sent as is with every request, e.g. `{ "format": "json" }`. */
    fixed: z.record(paramName, z.string()),
  })
  .partial();
export type QueryNames = Required<z.infer<typeof QueryNamesPatchSchema>>;

/**
 * How the API's date filters read the window's bounds. `format` is how a bound is written; `precision` is the unit
 * the API compares in (`days`, whole `seconds` or `millis`), which is the format's own unit unless the config says
 * it is coarser (an API that accepts milliseconds but compares whole seconds). Windows are half-open, [from, to);
 * the source asks for the window rounded outward to the precision, so whatever the API does inside a unit, every
 * row of the night is fetched, and keeps only the rows whose own `created_at` falls in [from, to): a row created on
 * a boundary lands in exactly one of two neighbouring nights (services/source-config/windows.ts).
 */
export const DateFormatSchema = z.enum([
  'iso-millis',
  'iso-seconds',
  'date',
  'epoch-millis',
  'epoch-seconds',
]);
export type DateFormat = z.infer<typeof DateFormatSchema>;

export const FilterPrecisionSchema = z.enum(['days', 'seconds', 'millis']);
export type FilterPrecision = z.infer<typeof FilterPrecisionSchema>;

export const DateFilterPatchSchema = z
  .strictObject({
    format: DateFormatSchema,
    precision: FilterPrecisionSchema,
    fromInclusive: z.boolean(),
    toInclusive: z.boolean(),
  })
  .partial();
export type DateFilterPatch = z.infer<typeof DateFilterPatchSchema>;
export type DateFilter = Required<DateFilterPatch>;

/** Where a page's parts are in its body. */
export const ResponseShapePatchSchema = z
  .strictObject({
    rowsPath: JsonPathSchema,
    /** Exactly one of totalPagesPath and totalItemsPath; with items, total_pages = ceil(items / pageSize). */
    totalPagesPath: JsonPathSchema.nullable(),
    totalItemsPath: JsonPathSchema.nullable(),
    /** When the API echoes the page number, an answer for another page is refused; `null` skips the check. */
    pagePath: JsonPathSchema.nullable(),
  })
  .partial();
export type ResponseShape = Required<z.infer<typeof ResponseShapePatchSchema>>;

export const InvalidRowsSchema = z.strictObject({
  /**
   * `quarantine` (default): a row that breaks the row schema is left out of the page and kept, with its reason,
   * under `rejected/` in the raw store; the page fails if more than `maxShare` of its rows are bad. `fail`: one
   * bad row fails the page. See docs/decisions/0030-invalid-rows-are-quarantined.md.
   */
  action: z.enum(['quarantine', 'fail']).default('quarantine'),
  maxShare: z.number().min(0).max(1).default(0.01),
});
export type InvalidRows = z.infer<typeof InvalidRowsSchema>;

export const RowsPatchSchema = z
  .strictObject({
    /** Canonical column → the API's field (a dot path), for the columns the API names differently. */
    fields: z.record(z.string(), JsonPathSchema),
    /** How the API sends a sensor reading's `timestamp`; the lake always stores epoch milliseconds. */
    timestampFormat: z.enum(['epoch-millis', 'epoch-seconds', 'iso-8601']),
    /** How the API sends `created_at`; the lake always stores ISO 8601 in UTC with milliseconds. */
    createdAtFormat: z.enum(['iso-8601', 'epoch-millis', 'epoch-seconds']),
    /**
     * The API leaves a field out when its value is null (many do): a missing field of a nullable column
     * (`sensor_value`) is read as null instead of breaking the row schema. Off by default, since a misspelt field
     * mapping would then read as all nulls.
     */
    omittedFieldsAreNull: z.boolean(),
    invalidRows: InvalidRowsSchema,
  })
  .partial();
export type RowsMapping = Required<z.infer<typeof RowsPatchSchema>>;

/**
 * What the source checks of the API's answers beyond their shape. `rowsOutsideWindow`: a row created outside the
 * window the API was asked for (the night, widened to the date filter's precision: askedWindow in windows.ts) means
 * the API does not apply the date filters, or applies other ones; `fail` (default) fails the page, naming the
 * rows, so a night never silently downloads (and drops) other nights' rows; `warn` leaves them out, counted, and
 * `etl run` warns when they are most of what the API sent. Rows of the neighbouring nights inside the window asked
 * for (a coarse filter's) are left out either way.
 */
export const ChecksPatchSchema = z
  .strictObject({
    rowsOutsideWindow: z.enum(['fail', 'warn']),
  })
  .partial();
export type Checks = Required<z.infer<typeof ChecksPatchSchema>>;

const RESERVED_TOKEN_PARAMS = new Set(['grant_type', 'scope', 'client_id', 'client_secret']);

/**
 * Headers sent with every page request: a string is sent as is; `{ "secretName": NAME }` is read by name as the
 * client secret is (Secrets Manager in the cloud, FLEET_ETL_SECRET_<NAME> locally), e.g. an API key, and never
 * logged. Names are checked where the sections merge (parse-source-config.ts): `authorization` and `accept` are
 * the source's own.
 */
const SecretNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9/_+=.@:-]{1,2048}$/,
    'expected the name (or ARN) of a secret, e.g. "fleet-api/client-secret"',
  );
export const HeadersSchema = z.record(
  z.string(),
  z.union([
    z.string().regex(/^[^\r\n]*$/, 'a header value cannot hold a line break'),
    z.strictObject({ secretName: SecretNameSchema }),
  ]),
);
export type HeaderValues = z.infer<typeof HeadersSchema>;

/**
 * OAuth 2.0 client credentials. The secret is never in the file: `clientSecretName` names it, and the process
 * reads it from AWS Secrets Manager (that secret id) in the cloud and from the environment variable
 * FLEET_ETL_SECRET_<NAME> (upper case, other characters as `_`) locally.
 */
export const AuthSchema = z.strictObject({
  type: z.literal('oauth2-client-credentials').default('oauth2-client-credentials'),
  tokenUrl: UrlOrPathSchema,
  clientId: z.string().min(1),
  clientSecretName: z
    .string()
    .regex(
      /^[A-Za-z0-9/_+=.@:-]{1,2048}$/,
      'expected the name (or ARN) of a secret, e.g. "fleet-api/client-secret"',
    ),
  scope: z.string().min(1).optional(),
  /**
   * More form fields of the token request, sent as given: `audience` (Auth0, Okta), `resource` (RFC 8707,
   * Azure AD v1). The fields the grant itself sends cannot be overridden here.
   */
  tokenParams: z
    .record(z.string().min(1), z.string())
    .refine(
      (params) => !Object.keys(params).some((name) => RESERVED_TOKEN_PARAMS.has(name)),
      'grant_type, scope, client_id and client_secret are set by the grant (use scope for the scope)',
    )
    .optional(),
  /** RFC 6749 §2.3.1: HTTP Basic is what servers must support; some read only the form body. */
  credentialsIn: z.enum(['basic-header', 'form-body']).default('basic-header'),
});
export type AuthConfig = z.infer<typeof AuthSchema>;

export const RateBudgetSchema = z.strictObject({
  /** Requests in flight toward the API at once, token requests included. */
  maxConcurrentRequests: z.number().int().min(1).max(256).default(4),
  /** Requests started per second: at most max(1, floor(rps)) in any window of that many / rps seconds. */
  requestsPerSecond: z.number().positive().max(10_000).default(20),
});
export type RateBudget = z.infer<typeof RateBudgetSchema>;

export const RetrySchema = z.strictObject({
  /** Attempts per request, the first included, before the page goes back to the queue. */
  maxAttempts: z.number().int().min(1).max(20).default(6),
  baseDelayMs: z.number().int().min(1).default(250),
  maxDelayMs: z.number().int().min(1).default(20_000),
  /** No attempt starts later than this after the first one: a Lambda has a timeout to keep. */
  maxElapsedMs: z.number().int().min(0).default(60_000),
  /**
   * The longest `Retry-After` honoured. An API asking for more (a day, say) fails the page at once, saying so,
   * rather than leaving a run asleep without a word; a later attempt within the limit still waits for it.
   */
  maxRetryAfterMs: z.number().int().min(0).default(900_000),
});
export type RetryConfig = z.infer<typeof RetrySchema>;

/**
 * When to fetch a dataset whole, without the date filters: `never` (default; only rows created in the night),
 * `first-night` (the first night run into an empty lake, then by date) or `every-night`. For vehicles: a first run
 * against a fleet that exists already would otherwise know no vehicle created before that night, and the sensor
 * join would drop their readings. Rows of a snapshot are kept whatever their `created_at`.
 */
export const SnapshotModeSchema = z.enum(['never', 'first-night', 'every-night']);
export type SnapshotMode = z.infer<typeof SnapshotModeSchema>;

const DatasetFileSchema = z.strictObject({
  endpoint: UrlOrPathSchema,
  /** Merged over the top level's, header by header. */
  headers: HeadersSchema.optional(),
  snapshot: SnapshotModeSchema.default('never'),
  auth: AuthSchema.optional(),
  /** Rows asked per page: the API's maximum is usually best (fewer requests). */
  pageSize: z.number().int().min(1).max(50_000).default(50_000),
  /**
   * The most pages a night of the dataset may plan: a `total_pages` above it is refused as an API's mistake
   * (planning a billion pages would exhaust memory long before the queue), naming the number.
   */
  maxPages: z.number().int().min(1).max(10_000_000).default(100_000),
  /**
   * The most rows a night of the dataset may plan: `total_pages` × the page size, or the API's own count of rows
   * when it gives one (`response.totalItemsPath`). A count above it is refused as an API's mistake (filters
   * ignored, a whole history sent) before a page of it is queued. The default, 100 million, is ten times the
   * largest night the benchmarks run (10 million readings, bench/suites/end-to-end.ts).
   */
  maxRows: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(100_000_000),
  query: QueryNamesPatchSchema.optional(),
  dateFilter: DateFilterPatchSchema.optional(),
  response: ResponseShapePatchSchema.optional(),
  rows: RowsPatchSchema.optional(),
  checks: ChecksPatchSchema.optional(),
});

export const SourceConfigFileSchema = z.strictObject({
  $schema: z.string().optional(),
  /** Endpoints and token URLs given as paths are resolved against it. */
  baseUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  auth: AuthSchema.optional(),
  headers: HeadersSchema.optional(),
  query: QueryNamesPatchSchema.optional(),
  dateFilter: DateFilterPatchSchema.optional(),
  response: ResponseShapePatchSchema.optional(),
  rows: RowsPatchSchema.optional(),
  checks: ChecksPatchSchema.optional(),
  rateBudget: RateBudgetSchema.default({ maxConcurrentRequests: 4, requestsPerSecond: 20 }),
  retry: RetrySchema.default({
    maxAttempts: 6,
    baseDelayMs: 250,
    maxDelayMs: 20_000,
    maxElapsedMs: 60_000,
    maxRetryAfterMs: 900_000,
  }),
  /** Per request, body included. */
  requestTimeoutMs: z.number().int().min(100).max(900_000).default(30_000),
  /** The nightly window: the whole calendar day, in this time zone, before the scheduled time. */
  window: z.strictObject({ timeZone: TimeZoneSchema.default('UTC') }).default({ timeZone: 'UTC' }),
  datasets: z.strictObject({ vehicles: DatasetFileSchema, sensors: DatasetFileSchema }),
});
export type SourceConfigFile = z.input<typeof SourceConfigFileSchema>;

/** The seed's API, which the simulator serves: what every section defaults to. */
export const DEFAULT_QUERY: QueryNames = {
  from: 'fromCreationDate',
  to: 'toCreationDate',
  timeZone: 'timeZone',
  pageSize: 'pageSize',
  page: 'page',
  fixed: {},
};
export const DEFAULT_DATE_FILTER: DateFilter = {
  format: 'iso-millis',
  precision: 'millis',
  fromInclusive: true,
  toInclusive: false,
};
export const DEFAULT_RESPONSE: ResponseShape = {
  rowsPath: 'data',
  totalPagesPath: 'total_pages',
  totalItemsPath: null,
  pagePath: 'page',
};
export const DEFAULT_ROWS: RowsMapping = {
  fields: {},
  timestampFormat: 'epoch-millis',
  createdAtFormat: 'iso-8601',
  omittedFieldsAreNull: false,
  invalidRows: { action: 'quarantine', maxShare: 0.01 },
};
export const DEFAULT_CHECKS: Checks = { rowsOutsideWindow: 'fail' };
export const DEFAULT_RATE_BUDGET: RateBudget = RateBudgetSchema.parse({});
