/**
 * Every service declared once. The CDK app (infra/) and the local runtime (local/) are both derived
 * from this file, so what runs on a laptop is wired exactly as what runs in AWS.
 */
import { type Dataset, DetailType, type DetailTypeName, EVENT_SOURCE } from '../events/index.js';
import { DEFAULT_RATE_BUDGET, downloaderScaling } from './source-config/index.js';

/** An EventBridge event pattern (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html). */
export type EventPattern = { [field: string]: EventPattern | readonly unknown[] };

/** The stage's buckets: the raw lake (NDJSON pages), the warehouse (Parquet) and the results (answers, reports). */
export type BucketResource = 'rawBucket' | 'warehouseBucket' | 'resultsBucket';

/**
 * How a service uses a bucket; the CDK app grants exactly that (infra/constructs/bucket-grants.ts), the local
 * runtime hands the service that bucket's object store. `read` is GetObject and listing (Athena lists a table's
 * folder before reading it); `write` puts objects, including multipart uploads and aborting them; `readWrite` is
 * both; `readWriteDelete` adds deleting objects, which only the warehouse's writer needs (a re-run replaces its own
 * files, decision 0002). `objects` is the exact actions of a writer that first checks whether its object is there.
 */
export type BucketAccess = 'objects' | 'read' | 'write' | 'readWrite' | 'readWriteDelete';

/** The resources a service may be granted; the CDK app turns each into a resource and a grant. */
export type Resource =
  | BucketResource
  | 'tasksQueue'
  | 'bus'
  | 'runLedger'
  /** The run ledger read only: a run's progress (plans, stored and failed pages), never a write. */
  | 'runProgress'
  | 'athena'
  | 'apiSecret'
  | 'sqlSource';

export interface ScheduleTrigger {
  kind: 'schedule';
  /** EventBridge cron syntax, UTC. */
  expression: string;
  /** One invocation per input, each receiving `{ ...input, time }` where time is the scheduled time. */
  inputs: readonly { dataset: Dataset }[];
}

export interface QueueTrigger {
  kind: 'queue';
  queue: 'tasks';
  batchSize: number;
  /** Caps concurrent invocations; derived from the API's rate budget. */
  maxConcurrency: number;
}

export interface RuleTrigger {
  kind: 'rule';
  pattern: EventPattern;
}

export type Trigger = ScheduleTrigger | QueueTrigger | RuleTrigger;

export interface ServiceDeclaration {
  description: string;
  /** Lambda entry, relative to the repository root; it exports `handler`. */
  entry: string;
  trigger: Trigger;
  publishes: readonly DetailTypeName[];
  /** What it needs besides buckets; each becomes a grant and the environment variables that locate it. */
  needs: readonly Exclude<Resource, BucketResource>[];
  /** The buckets it uses and how, so that each grant is as narrow as its code allows. */
  buckets?: { readonly [B in BucketResource]?: BucketAccess };
  timeoutSeconds: number;
  memoryMb: number;
}

/** The shape of `topology` below; a test may declare another (a consumer added, say) and derive both runtimes from it. */
export interface TopologyDeclaration {
  bus: { source: string; archiveRetentionDays: number };
  queues: {
    tasks: { visibilityTimeoutSeconds: number; maxReceiveCount: number; deadLetterRetentionDays: number };
  };
  services: Readonly<Record<string, ServiceDeclaration>>;
}

/** Every resource a service is granted: its buckets, then its other needs. */
export function resourcesNeeded(declaration: ServiceDeclaration): Resource[] {
  return [...(Object.keys(declaration.buckets ?? {}) as BucketResource[]), ...declaration.needs];
}

export const DATASETS = ['vehicles', 'sensors'] as const satisfies readonly Dataset[];

/** Our events of these detail-types; the tuple's literal types are kept, so handlers can derive theirs from it. */
const fromUs = <const T extends readonly DetailTypeName[]>(...detailTypes: T) =>
  ({ source: [EVENT_SOURCE], 'detail-type': detailTypes }) as const;

/**
 * Matches only events that are not replays: EventBridge sets `replay-name` on replayed events alone
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-archive.html). The stages that keep the run's
 * progress (ledger, SQL files) ignore replays, so replaying an archive window never redoes their work; consumers of
 * results (the report, later EtlDone consumers) receive replays and are idempotent
 * (docs/decisions/0040-replays-redo-no-pipeline-work.md). The stack's own rules (alerts, metrics) use it too.
 */
export const LIVE_ONLY = { 'replay-name': [{ exists: false }] } as const satisfies EventPattern;

const liveOnly = <P extends EventPattern>(pattern: P) => ({ ...pattern, ...LIVE_ONLY });

/**
 * The name of a consumer's rule on the bus, in both runtimes: `<bus>-<consumer>` (the CDK app names the rules so,
 * `etl replay --bus-arn` derives a replay's FilterArns from it, and the local bus names its rules the same way).
 */
export const subscriptionRuleName = (busName: string, consumer: string): string => `${busName}-${consumer}`;

const DOWNLOADER_TIMEOUT_SECONDS = 120;
const DOWNLOADER_BATCH_SIZE = 5;
/**
 * The API's rate budget is shared by every downloader instance: the queue runs at most `maxConcurrency` of them
 * and each takes an equal share (services/source-config/cloud-scaling.ts). A deployment with another budget
 * derives its own with `downloaderScaling(config.rateBudget, batchSize)`.
 */
const DOWNLOADER_SCALING = downloaderScaling(DEFAULT_RATE_BUDGET, DOWNLOADER_BATCH_SIZE);

export const topology = {
  bus: { source: EVENT_SOURCE, archiveRetentionDays: 30 },
  queues: {
    tasks: {
      /** SQS guidance: at least six times the consumer's timeout, so a slow batch is not handed out twice. */
      visibilityTimeoutSeconds: DOWNLOADER_TIMEOUT_SECONDS * 6,
      maxReceiveCount: 5,
      deadLetterRetentionDays: 14,
    },
  },
  services: {
    planner: {
      description: 'Asks the API how many pages the window has and queues one download task per page.',
      entry: 'services/planner/lambda.ts',
      trigger: {
        kind: 'schedule',
        expression: 'cron(0 1 * * ? *)',
        inputs: DATASETS.map((dataset) => ({ dataset })),
      },
      publishes: [DetailType.PagesPlanned, DetailType.EtlFailed],
      needs: ['apiSecret', 'tasksQueue', 'bus'],
      timeoutSeconds: 60,
      memoryMb: 512,
    },
    downloader: {
      description: 'Fetches one page per task and stores it whole as NDJSON in the raw lake.',
      entry: 'services/downloader/lambda.ts',
      trigger: {
        kind: 'queue',
        queue: 'tasks',
        batchSize: DOWNLOADER_BATCH_SIZE,
        maxConcurrency: DOWNLOADER_SCALING.maxConcurrency,
      },
      // EtlFailed when a page fails on its last receive, just before it is dead-lettered.
      publishes: [DetailType.PageDownloaded, DetailType.EtlFailed],
      needs: ['apiSecret', 'bus'],
      // Puts whole pages (lib-storage: single or multipart upload), and first asks whether the page is already
      // stored (HeadObject; a redelivered task reads the stored page back instead of calling the API again).
      // HeadObject needs s3:GetObject, and S3 answers a missing key with 404 only to a caller allowed s3:ListBucket,
      // 403 otherwise (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html), which the adapter
      // rightly treats as terminal: with 'write' alone every page went to the dead-letter queue (found by the
      // cloud twin, tests/cloud/lambda/downloader-on-the-twin.test.ts).
      buckets: { rawBucket: 'objects' },
      timeoutSeconds: DOWNLOADER_TIMEOUT_SECONDS,
      memoryMb: 1024,
    },
    completionTracker: {
      description:
        'Keeps the run ledger: counts distinct stored pages against the plan, records pages that gave up, ' +
        'and announces once that downloads are drained.',
      entry: 'services/completion-tracker/lambda.ts',
      trigger: {
        kind: 'rule',
        pattern: liveOnly(
          fromUs(
            DetailType.PagesPlanned,
            DetailType.PageDownloaded,
            DetailType.EtlFailed,
            DetailType.EtlDone,
          ),
        ),
      },
      publishes: [DetailType.DownloadsDrained],
      needs: ['runLedger', 'bus'],
      timeoutSeconds: 30,
      memoryMb: 256,
    },
    queryRunner: {
      description:
        'Runs the SQL files one at a time, each reacting to the previous one, then announces EtlDone.',
      entry: 'services/query-runner/lambda.ts',
      trigger: {
        kind: 'rule',
        pattern: liveOnly(fromUs(DetailType.DownloadsDrained, DetailType.SqlFileExecuted)),
      },
      publishes: [DetailType.SqlFileExecuted, DetailType.EtlDone, DetailType.EtlFailed],
      needs: ['athena', 'sqlSource', 'bus'],
      // Athena reads the raw pages, writes and replaces warehouse files, writes its output and the runner's results.
      buckets: { rawBucket: 'read', warehouseBucket: 'readWriteDelete', resultsBucket: 'readWrite' },
      timeoutSeconds: 900,
      memoryMb: 512,
    },
    report: {
      description:
        'First consumer of EtlDone: writes the analytics answer as a readable report, and for a night that ' +
        'failed (EtlFailed) a report of what failed and where the night stopped.',
      entry: 'services/report/lambda.ts',
      trigger: { kind: 'rule', pattern: fromUs(DetailType.EtlDone, DetailType.EtlFailed) },
      publishes: [],
      // The ledger, read only, says where a failed night stopped: its plans, stored and failed pages.
      needs: ['runProgress'],
      // Reads the run's results, writes the report.
      buckets: { resultsBucket: 'readWrite' },
      timeoutSeconds: 30,
      memoryMb: 256,
    },
  },
} as const satisfies TopologyDeclaration;

export type Topology = typeof topology;
export type ServiceName = keyof Topology['services'];
export const serviceNames = Object.keys(topology.services) as ServiceName[];

/** The services of the topology that a rule triggers. */
export type RuleTriggeredService = {
  [S in ServiceName]: Topology['services'][S]['trigger'] extends RuleTrigger ? S : never;
}[ServiceName];

/** The detail-types a rule-triggered service consumes: those of its rule's pattern, as the compiler knows them. */
export type ConsumedDetailType<S extends RuleTriggeredService> = Topology['services'][S]['trigger'] extends {
  pattern: { 'detail-type': readonly (infer T)[] };
}
  ? T
  : never;

/**
 * What the service's handler accepts (events/middleware.ts) is its rule's pattern, read here: the types the rule
 * routes to it and the types its handler validates are one list, so neither can gain a type the other lacks.
 */
export function consumedDetailTypes<S extends RuleTriggeredService>(
  service: S,
): readonly ConsumedDetailType<S>[] {
  const trigger: RuleTrigger = topology.services[service].trigger;
  return trigger.pattern['detail-type'] as readonly ConsumedDetailType<S>[];
}
