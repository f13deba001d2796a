import * as z from 'zod';

/**
 * What the hostile fleet API (server.ts) is started with, and what it reports: shared by the server process and the
 * tests that start it, so both sides of the process boundary parse the same contract.
 */

const DatasetSchema = z.enum(['vehicles', 'sensors']);

/** One page of one dataset, as a fault's target. */
export const PageTargetSchema = z.strictObject({
  dataset: DatasetSchema,
  page: z.number().int().min(1),
});
export type PageTarget = z.infer<typeof PageTargetSchema>;

/**
 * How the API misbehaves; one behaviour per server. Each names the wire-level fault it serves, so a scenario reads
 * as what a real API (or a proxy in front of one) did.
 */
export const BehaviourSchema = z.discriminatedUnion('kind', [
  /** Answers as the contract says: the control scenario, which must give the fault-free answer. */
  z.strictObject({ kind: z.literal('well-behaved') }),
  /** Pages every row it holds (the night and its neighbours), whatever fromCreationDate/toCreationDate say. */
  z.strictObject({ kind: z.literal('ignores-date-filter') }),
  /** Says `total_pages: 0` while page 1 carries the night's first rows. */
  z.strictObject({ kind: z.literal('total-pages-zero') }),
  /** Answers page 1's rows whatever `page` asks; echoes the page asked, or no page number at all. */
  z.strictObject({ kind: z.literal('ignores-page'), echo: z.enum(['asked', 'none']) }),
  /** Serves the right rows but echoes another page number (the one after). */
  z.strictObject({ kind: z.literal('echoes-wrong-page') }),
  /** Serves the right rows and no page number: allowed, the pagination is still checked by the row counts. */
  z.strictObject({ kind: z.literal('no-page-echo') }),
  /** Orders the night's rows differently on every request: pages overlap, some rows are never on any page. */
  z.strictObject({ kind: z.literal('unstable-order') }),
  /** `total_pages` written as this JSON number text (e.g. `1e9`). */
  z.strictObject({ kind: z.literal('total-pages-text'), text: z.string().regex(/^-?[0-9][0-9eE.+-]*$/) }),
  /** The target page always answers 429 with this Retry-After. */
  z.strictObject({ kind: z.literal('retry-after'), target: PageTargetSchema, header: z.string().min(1) }),
  /** The token endpoint answers a redirect (307 or 308) to the same path on another origin. */
  z.strictObject({ kind: z.literal('token-redirect'), status: z.union([z.literal(307), z.literal(308)]) }),
  /** Every token is revoked after this many page requests it authorised: 401 until a fresh one is asked for. */
  z.strictObject({ kind: z.literal('tokens-revoked'), afterPageRequests: z.number().int().min(1) }),
  /** The target page's body breaks the JSON grammar inside a row (a trailing comma), every time. */
  z.strictObject({ kind: z.literal('invalid-json'), target: PageTargetSchema }),
  /** The first answer to every page stops halfway through its body: alternately ended cleanly and dropped. */
  z.strictObject({ kind: z.literal('truncated-first-answers') }),
  /**
   * A gzip body (`content-encoding: gzip`) that inflates to `inflatedMiB` MiB of JSON whitespace: on the target
   * page's first answer (a 200), on its first answer as a 503's error body, or on every token response.
   */
  z.strictObject({
    kind: z.literal('gzip-bomb'),
    where: z.enum(['page', 'error-body', 'token']),
    target: PageTargetSchema,
    inflatedMiB: z.number().int().min(1).max(4096),
  }),
  /** The target page's first answer sends its headers, then one byte every `intervalMs`, for as long as it is read. */
  z.strictObject({
    kind: z.literal('slow-drip'),
    target: PageTargetSchema,
    intervalMs: z.number().int().min(1),
  }),
  /** The first answer to every page is a 200 with an HTML page (a proxy's or a login wall's), under this type. */
  z.strictObject({ kind: z.literal('html-200'), contentType: z.string().min(1) }),
]);
export type Behaviour = z.infer<typeof BehaviourSchema>;

const SensorRowSchema = z.strictObject({
  vehicle_id: z.string(),
  timestamp: z.number(),
  sensor_value: z.number().nullable(),
  created_at: z.string(),
});
const VehicleRowSchema = z.strictObject({
  vehicle_id: z.string(),
  vehicle_type: z.string(),
  created_at: z.string(),
});

/** The server's start file: its client, its rows (in the order it pages them) and how it misbehaves. */
export const HostileOptionsSchema = z.strictObject({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** Seconds after which the server exits whatever happens, should its parent never close its stdin. */
  lifetimeSeconds: z.number().int().min(1).max(3_600),
  rows: z.strictObject({ vehicles: z.array(VehicleRowSchema), sensors: z.array(SensorRowSchema) }),
  behaviour: BehaviourSchema,
});
export type HostileOptions = z.infer<typeof HostileOptionsSchema>;

/** The line the server prints on stdout once both its origins listen. */
export const ListeningLineSchema = z.strictObject({
  url: z.string().url(),
  /** Another origin (another port), where the token endpoint redirects to: it records what reaches it. */
  elsewhere: z.string().url(),
});

/** What the server saw, from `GET /_stats`. */
export const HostileStatsSchema = z.strictObject({
  requests: z.strictObject({
    token: z.number(),
    vehicles: z.number(),
    sensors: z.number(),
    other: z.number(),
  }),
  /** Requests that reached the other origin (the redirect's target): none may. */
  elsewhereRequests: z.number(),
  /** Page requests per `dataset:page`. */
  pageRequests: z.record(z.string(), z.number()),
  /** Answers that carried the behaviour's fault. */
  faults: z.number(),
  /** Page requests refused with 401 for a revoked or unknown token. */
  unauthorized: z.number(),
  /** Every access token issued, for the secrets scan. */
  tokensIssued: z.array(z.string()),
  /** Answers the client stopped reading before their end (it closed the connection). */
  abandonedByClient: z.number(),
});
export type HostileStats = z.infer<typeof HostileStatsSchema>;
