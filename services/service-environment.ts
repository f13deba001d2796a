/**
 * The environment variables of each Lambda, said once. A service's variables follow from its topology entry: the
 * ones that locate each resource it needs, the ones its trigger sets, and where details sent by reference are.
 * The CDK app sets them under these names (infra/constructs/pipeline-services.ts, checked by the compiler with
 * `ResourceVariables`), and each Lambda entry parses them with `serviceEnvironment(<its name>)` at cold start.
 */
import * as z from 'zod';
import type { ClaimCheckedDetailType } from '../events/claim-check.js';
import { isClaimChecked } from '../events/claim-check.js';
import { nonEmpty, positiveInt } from './shared/environment.js';
import { SourceEnvironmentSchema } from './source-config/from-environment.js';
import {
  type QueueTrigger,
  type Resource,
  resourcesNeeded,
  type ServiceDeclaration,
  type ServiceName,
  type Topology,
  topology,
} from './topology.js';

/** Glue names: lowercase letters, digits and underscores (infra/naming.ts derives the stage's). */
const glueDatabase = nonEmpty.regex(/^[a-z_][a-z0-9_]{0,63}$/);

/** The variables that locate each resource, by the resource a service `needs` (or the bucket it uses). */
const RESOURCE_ENVIRONMENT = {
  bus: { EVENT_BUS_NAME: nonEmpty },
  // The tasks' producer decides how many rows a page (a task) holds.
  tasksQueue: { TASKS_QUEUE_URL: nonEmpty, PAGE_SIZE: positiveInt },
  // FLEET_SOURCE_CONFIG (a source of its own), or FLEET_API_* for an API of the seed's shape.
  apiSecret: SourceEnvironmentSchema.shape,
  rawBucket: { RAW_BUCKET: nonEmpty },
  warehouseBucket: { WAREHOUSE_BUCKET: nonEmpty },
  resultsBucket: { RESULTS_BUCKET: nonEmpty },
  runLedger: { RUN_LEDGER_TABLE: nonEmpty },
  runProgress: { RUN_LEDGER_TABLE: nonEmpty },
  athena: { GLUE_DATABASE: glueDatabase, ATHENA_WORKGROUP: nonEmpty },
  /**
   * SQL_SOURCE and GITHUB_*: written and read side by side in services/adapters/sql-source-config.ts
   * (`sqlSourceEnvironment`, `sqlSourceConfigFromEnv`), which only the query runner's bundle may carry.
   * QUERIES_DIR is not set by the stack: the bundled folder is found next to the handler.
   */
  sqlSource: { QUERIES_DIR: nonEmpty.optional() },
} as const satisfies Record<Resource, z.ZodRawShape>;

/**
 * Set by a queue trigger: the event source mapping's MaximumConcurrency as deployed (the API's budget is shared
 * among that many instances) and the queue's maxReceiveCount (the last receive announces the page as failed).
 * Optional: the topology's values are the defaults.
 */
export const QUEUE_TRIGGER_ENVIRONMENT = {
  DOWNLOADER_MAX_CONCURRENCY: positiveInt.optional(),
  MAX_RECEIVE_COUNT: positiveInt.optional(),
} as const satisfies z.ZodRawShape;

/**
 * Where a consumer of details sent by reference reads them (the results bucket's `event-details/`, decision 60),
 * when it does not use the results bucket anyway.
 */
export const EVENT_DETAILS_ENVIRONMENT = { RESULTS_BUCKET: nonEmpty } as const satisfies z.ZodRawShape;

type ResourceEnvironment = typeof RESOURCE_ENVIRONMENT;
type VariablesOf<R extends Resource> = R extends Resource ? keyof ResourceEnvironment[R] : never;
type SchemaOf<R extends Resource, K extends PropertyKey> = R extends Resource
  ? K extends keyof ResourceEnvironment[R]
    ? ResourceEnvironment[R][K]
    : never
  : never;

/** The variables of resources `R`, merged: two resources may share one (the ledger's table). */
type ResourcesShape<R extends Resource> = { [K in VariablesOf<R>]: SchemaOf<R, K> };

/**
 * A resource's variables as the CDK app sets them: a string for each, the optional ones may be left out. An
 * object literal `satisfies` it only with exactly these names, so the stack cannot set a name the entry does not read.
 */
export type ResourceVariables<R extends Resource> = ShapeVariables<ResourcesShape<R>>;

/** A variable the entry may go without: optional, or with a default (not `z.input`: a coerced one takes unknown). */
type MayBeUnset<S> = S extends z.ZodDefault ? true : undefined extends z.output<S> ? true : false;

/** Variables named by a shape, as the CDK app sets them (the queue trigger's, the event details'). */
export type ShapeVariables<S> = {
  [K in keyof S as MayBeUnset<S[K]> extends true ? never : K]: string;
} & { [K in keyof S as MayBeUnset<S[K]> extends true ? K : never]?: string };

type DeclaredResources<D> =
  | (D extends { needs: readonly (infer N extends Resource)[] } ? N : never)
  | (D extends { buckets: infer B } ? Extract<keyof B, Resource> : never);

type TriggerShape<D> = D extends { trigger: QueueTrigger } ? typeof QUEUE_TRIGGER_ENVIRONMENT : unknown;

type EventDetailsShape<D> = D extends { trigger: { pattern: { 'detail-type': readonly (infer T)[] } } }
  ? [Extract<T, ClaimCheckedDetailType>] extends [never]
    ? unknown
    : typeof EVENT_DETAILS_ENVIRONMENT
  : unknown;

/** The environment a service's Lambda entry parses, as a zod shape. */
type ServiceShape<D> = ResourcesShape<DeclaredResources<D>> & TriggerShape<D> & EventDetailsShape<D>;

/** Whether the service's rule routes it details that may come by reference (events/claim-check.ts). */
export function consumesByReference(declaration: ServiceDeclaration): boolean {
  if (declaration.trigger.kind !== 'rule') return false;
  const detailTypes = declaration.trigger.pattern['detail-type'];
  return (Array.isArray(detailTypes) ? detailTypes : []).some(
    (t) => typeof t === 'string' && isClaimChecked(t),
  );
}

/** The shape of the environment of a declared service (a test may declare one outside the topology). */
export function environmentShapeOf<D extends ServiceDeclaration>(declaration: D): ServiceShape<D> {
  const shape: z.ZodRawShape = {};
  for (const resource of resourcesNeeded(declaration)) Object.assign(shape, RESOURCE_ENVIRONMENT[resource]);
  if (declaration.trigger.kind === 'queue') Object.assign(shape, QUEUE_TRIGGER_ENVIRONMENT);
  if (consumesByReference(declaration)) Object.assign(shape, EVENT_DETAILS_ENVIRONMENT);
  return shape as ServiceShape<D>;
}

/** The environment of a service of the topology, as its Lambda entry parses it at cold start (parseEnvironment). */
export function serviceEnvironment<S extends ServiceName>(service: S) {
  return z.object(environmentShapeOf<Topology['services'][S]>(topology.services[service]));
}
