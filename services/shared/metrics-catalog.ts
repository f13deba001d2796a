/**
 * Every metric the functions emit in CloudWatch embedded metric format (EMF), declared once: the Lambda entries
 * emit only these (emf-metrics.ts takes names of this object), and the CDK app's dashboard and alarms build their
 * metrics from it (infra/constructs/fleet-metrics.ts), so a widget cannot name a metric no code emits.
 *
 * What the domain events carry (pages, rows, bytes, rows outside the window, readings of unknown vehicles, SQL
 * durations, runs) is counted from the events instead, by the metric filters of EventMetrics (decision 11); what
 * only a process knows is here: its API traffic, the rate budget's waits, the rows it quarantined, how long its
 * invocations took (decision 82).
 *
 * Powertools Metrics adds the dimension `service` (the emitting service's name) to every metric; `dimensions`
 * lists the others.
 */
export const EMF_METRICS = {
  StageDuration: {
    unit: 'Milliseconds',
    dimensions: [],
    services: ['planner', 'downloader', 'completionTracker', 'queryRunner', 'report'],
    description: 'one invocation of the stage, from the handler being called to its answer',
  },
  ApiPageRequests: {
    unit: 'Count',
    dimensions: [],
    services: ['planner', 'downloader'],
    description: 'HTTP requests for pages, retries included',
  },
  ApiRetries: {
    unit: 'Count',
    dimensions: [],
    services: ['planner', 'downloader'],
    description: 'page requests sent again: after a transient failure, or after a 401 with a fresh token',
  },
  ApiTransientFailures: {
    unit: 'Count',
    dimensions: ['Cause'],
    services: ['planner', 'downloader'],
    description: 'failures the client retried (or gave up on), by cause; Cause=http-429 counts the 429s',
  },
  ApiTokenRequests: {
    unit: 'Count',
    dimensions: [],
    services: ['planner', 'downloader'],
    description: 'OAuth token requests',
  },
  BudgetWaits: {
    unit: 'Count',
    dimensions: [],
    services: ['planner', 'downloader'],
    description: 'requests that waited for the rate budget (concurrency or requests per second) to start',
  },
  BudgetWaitTime: {
    unit: 'Milliseconds',
    dimensions: [],
    services: ['planner', 'downloader'],
    description: 'how long those requests waited, in all',
  },
  RowsQuarantined: {
    unit: 'Count',
    dimensions: ['Dataset'],
    services: ['downloader'],
    description: 'rows that broke the row schema, kept under rejected/ (decision 30)',
  },
} as const satisfies Record<string, EmfMetricDeclaration>;

export interface EmfMetricDeclaration {
  unit: 'Count' | 'Milliseconds' | 'Bytes';
  dimensions: readonly EmfDimension[];
  /**
   * The services that emit it, by their names in services/topology.ts. A shared module does not import the
   * topology; the CDK app's emfMetric (infra/constructs/fleet-metrics.ts) holds these names to it when it compiles.
   */
  services: readonly string[];
  description: string;
}

export type EmfDimension = 'Cause' | 'Dataset';
export type EmfMetricName = keyof typeof EMF_METRICS;
export const emfMetricNames = Object.keys(EMF_METRICS) as EmfMetricName[];

/**
 * The causes of transient failures, as a closed set: a dimension value is a metric series of its own (and costs
 * as one), so HTTP statuses are grouped rather than passed through.
 */
export const TRANSIENT_CAUSES = [
  'http-429',
  'http-5xx',
  'http-other',
  'network',
  'truncated',
  'content-type',
  'token-refused',
  'other',
] as const;
export type TransientCause = (typeof TRANSIENT_CAUSES)[number];

/** The cause of one of the fleet source's `transientFailures` keys (`HTTP 429`, `network`, ...). */
export function transientCauseOf(kind: string): TransientCause {
  if (kind === 'HTTP 429') return 'http-429';
  if (kind === 'HTTP 401 (token refreshed)') return 'token-refused';
  if (/^HTTP 5\d\d$/.test(kind)) return 'http-5xx';
  if (kind.startsWith('HTTP ')) return 'http-other';
  if (kind === 'network' || kind === 'truncated' || kind === 'content-type') return kind;
  return 'other';
}
