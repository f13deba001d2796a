import { createHash } from 'node:crypto';
import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { ViaServicePrincipal } from 'aws-cdk-lib/aws-kms';
import type { DestinationConfig, IDestination, IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type ClaimCheckedDetailType, isClaimChecked } from '../../events/claim-check.js';
import { githubSqlSourceEnvironment } from '../../services/adapters/sql-source-config.js';
import type {
  EVENT_DETAILS_ENVIRONMENT,
  QUEUE_TRIGGER_ENVIRONMENT,
  ResourceVariables,
  ShapeVariables,
} from '../../services/service-environment.js';
import { downloaderScaling } from '../../services/source-config/index.js';
import {
  type BucketAccess,
  type BucketResource,
  type Resource,
  resourcesNeeded,
  type ServiceDeclaration,
  type TopologyDeclaration,
  type Trigger,
  topology,
} from '../../services/topology.js';
import type { DeploymentConfig } from '../config.js';
import { InvalidDeploymentError } from '../errors.js';
import { deployedRateBudget, deployedSource, headerSecretNames } from '../fleet-source.js';
import { BUNDLED_QUERIES_DIR } from '../lambda-runtime.js';
import { acknowledge, wildcardResourceFinding } from '../nag.js';
import type { Analytics } from './analytics.js';
import { grantBucket, grantEventDetailsRead } from './bucket-grants.js';
import type { DataLake } from './data-lake.js';
import type { FleetEventBus } from './event-bus.js';
import { type EventSubscriptions, NightlySchedule, type TargetRetry } from './event-subscriptions.js';
import { FleetFunction } from './fleet-function.js';
import { metricsNamespace } from './fleet-metrics.js';
import type { RunLedger } from './run-ledger.js';
import type { PipelineSecrets } from './secrets.js';
import type { TasksQueue } from './tasks-queue.js';

/** The resources of the stage, one per kind the topology's `needs` can name. */
export interface PipelineResources {
  lake: DataLake;
  analytics: Analytics;
  ledger: RunLedger;
  secrets: PipelineSecrets;
  tasks: TasksQueue;
  bus: FleetEventBus;
}

export interface PipelineServicesProps {
  config: DeploymentConfig;
  resources: PipelineResources;
  subscriptions: EventSubscriptions;
  /** Events and invocations given up on: EventBridge target dead letters, Lambda async failures. */
  undeliveredEvents: IQueue;
  failedInvocations: IQueue;
  retry: TargetRetry;
  logRetention: RetentionDays;
  /** The stage's key: it encrypts the functions' log groups. */
  logKey: IKey;
  removalPolicy: RemovalPolicy;
  /** The services to deploy: services/topology.ts unless a test declares others. */
  topology?: TopologyDeclaration;
}

/**
 * Lambda retries a failed asynchronous invocation (schedule, rules) twice, then hands the event to the failure
 * destination (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html). Events older
 * than this are not retried: by then a person should look at the run.
 */
const ASYNC_RETRY_ATTEMPTS = 2;
const ASYNC_MAX_EVENT_AGE = Duration.hours(6);

/**
 * Lambda refuses a function whose environment variables exceed 4 KB in all
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html); the source configuration is by far
 * the largest. Measured with the longest secret ARN a stage can have, it must leave room for the other variables.
 */
const MAX_SOURCE_CONFIG_BYTES = 3_000;
const LONGEST_SECRET_ARN = `arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:${'x'.repeat(64)}-AbCdEf`;

function checkEnvironmentRoom(config: DeploymentConfig): void {
  const source = deployedSource(config, LONGEST_SECRET_ARN);
  if (source === undefined) return;
  const bytes = Buffer.byteLength(JSON.stringify(source));
  if (bytes > MAX_SOURCE_CONFIG_BYTES) {
    throw new InvalidDeploymentError(
      `source: ${bytes} bytes as FLEET_SOURCE_CONFIG, over the ${MAX_SOURCE_CONFIG_BYTES} a stage allows it ` +
        "(Lambda's environment is 4 KB in all); leave out the settings that equal their defaults",
    );
  }
}

/**
 * Lambda's on-failure destination for a function's asynchronous invocations: Lambda sends the failure record with
 * the function's role, so the role may send to the queue (SendMessage, and the queue key's GenerateDataKey and
 * Decrypt). CDK's SqsDestination grants grantSendMessages, which adds GetQueueAttributes, GetQueueUrl, Encrypt
 * and ReEncrypt*, none of which Lambda calls. Unused on a night without a failed invocation (the cloud twin's
 * grant usage lists it then); the twin's failing-invocation test uses it.
 */
class FailedInvocationsQueue implements IDestination {
  constructor(private readonly queue: IQueue) {}

  bind(_scope: Construct, fn: IFunction): DestinationConfig {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );
    this.queue.encryptionMasterKey?.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');
    return { destination: this.queue.queueArn };
  }
}

/** How the declaration uses a bucket; only its `buckets` name one, so it says how. */
function bucketAccess(declaration: ServiceDeclaration, bucket: BucketResource): BucketAccess {
  const access = declaration.buckets?.[bucket];
  if (access === undefined)
    throw new InvalidDeploymentError(`${declaration.entry}: no access declared for ${bucket}`);
  return access;
}

/** Sets variables named in services/service-environment.ts, which the function's Lambda entry parses. */
function setEnvironment(fn: FleetFunction, variables: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(variables))
    if (value !== undefined) fn.addEnvironment(name, value);
}

const pascal = (name: string) => `${name.charAt(0).toUpperCase()}${name.slice(1)}`;

/**
 * GetSecretValue, and the key's Decrypt only through Secrets Manager: the functions read a secret's value and
 * nothing else (CDK's grantRead adds DescribeSecret, which no code calls).
 */
function grantSecretValue(fn: FleetFunction, secret: ISecret): void {
  // A secret known by name only gets Secrets Manager's six-character suffix as a wildcard, as CDK's grantRead does.
  const arn = secret.secretFullArn ?? `${secret.secretArn}-??????`;
  fn.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [arn] }));
  secret.encryptionKey?.grantDecrypt(
    new ViaServicePrincipal(`secretsmanager.${Stack.of(fn).region}.amazonaws.com`, fn.grantPrincipal),
  );
}

/**
 * One function per service of the topology, with the grants and environment its `needs` imply and the trigger
 * it declares. Environment variables are the names services/<name>/lambda.ts parses; secrets are passed by ARN.
 */
export class PipelineServices extends Construct {
  /** By service name, as the topology declares them. */
  readonly functions: ReadonlyMap<string, FleetFunction>;
  readonly #props: PipelineServicesProps;

  constructor(scope: Construct, id: string, props: PipelineServicesProps) {
    super(scope, id);
    this.#props = props;
    const functions = new Map<string, FleetFunction>();
    for (const [service, declaration] of Object.entries(props.topology?.services ?? topology.services)) {
      const needs = resourcesNeeded(declaration);
      if (declaration.publishes.length > 0 && !needs.includes('bus'))
        throw new InvalidDeploymentError(
          `${declaration.entry}: publishes ${declaration.publishes.join(', ')} but does not need the bus`,
        );
      const bundlesQueries = needs.includes('sqlSource') && props.config.sqlSource.kind === 'bundled';
      const fn = new FleetFunction(this, pascal(service), {
        declaration,
        logRetention: props.logRetention,
        logKey: props.logKey,
        removalPolicy: props.removalPolicy,
        metricsNamespace: metricsNamespace(props.config.stage),
        bundledFolders: bundlesQueries ? [BUNDLED_QUERIES_DIR] : [],
      });
      for (const need of needs) setEnvironment(fn, this.#bind(declaration, fn, need));
      this.#trigger(service, fn, declaration.trigger);
      this.#eventDetails(declaration, fn);
      functions.set(service, fn);
    }
    this.functions = functions;
  }

  /**
   * Grants the resource to the function; returns the environment variables that locate it, each literal checked
   * by the compiler against the names services/service-environment.ts gives the resource.
   */
  #bind(
    declaration: ServiceDeclaration,
    fn: FleetFunction,
    need: Resource,
  ): Record<string, string | undefined> {
    const { resources, config } = this.#props;
    switch (need) {
      case 'bus':
        if (declaration.publishes.length === 0)
          throw new InvalidDeploymentError(`${declaration.entry}: needs the bus but publishes nothing`);
        resources.bus.grantPublish(fn, declaration.publishes);
        return { EVENT_BUS_NAME: resources.bus.bus.eventBusName } satisfies ResourceVariables<'bus'>;
      case 'tasksQueue':
        // SendMessageBatch is authorized as sqs:SendMessage. Sending to a KMS-encrypted queue needs the key's
        // GenerateDataKey and Decrypt (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html);
        // CDK's grantSendMessages adds GetQueueAttributes, GetQueueUrl, Encrypt and ReEncrypt*, which no code calls.
        fn.addToRolePolicy(
          new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [resources.tasks.queue.queueArn] }),
        );
        resources.tasks.queue.encryptionMasterKey?.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');
        // The tasks' producer decides how many rows a page (a task) holds.
        return {
          TASKS_QUEUE_URL: resources.tasks.queue.queueUrl,
          PAGE_SIZE: String(config.fleetApi.pageSize),
        } satisfies ResourceVariables<'tasksQueue'>;
      case 'apiSecret': {
        const secret = resources.secrets.fleetApiClientSecret;
        grantSecretValue(fn, secret);
        this.#grantHeaderSecrets(fn);
        // A source of its own or a rate budget of its own goes whole, in the variable the functions prefer.
        const source = deployedSource(config, secret.secretArn);
        checkEnvironmentRoom(config);
        return {
          FLEET_API_BASE_URL: config.fleetApi.baseUrl,
          FLEET_API_TOKEN_URL: config.fleetApi.tokenUrl,
          FLEET_API_CLIENT_ID: config.fleetApi.clientId,
          FLEET_API_SECRET_ID: secret.secretArn,
          ...(source === undefined ? {} : { FLEET_SOURCE_CONFIG: Stack.of(this).toJsonString(source) }),
        } satisfies ResourceVariables<'apiSecret'>;
      }
      case 'rawBucket':
        grantBucket(fn, resources.lake.raw, bucketAccess(declaration, need));
        return { RAW_BUCKET: resources.lake.raw.bucketName } satisfies ResourceVariables<'rawBucket'>;
      case 'warehouseBucket':
        grantBucket(fn, resources.lake.warehouse, bucketAccess(declaration, need));
        return {
          WAREHOUSE_BUCKET: resources.lake.warehouse.bucketName,
        } satisfies ResourceVariables<'warehouseBucket'>;
      case 'resultsBucket':
        grantBucket(fn, resources.lake.results, bucketAccess(declaration, need));
        return {
          RESULTS_BUCKET: resources.lake.results.bucketName,
        } satisfies ResourceVariables<'resultsBucket'>;
      case 'runLedger':
        resources.ledger.grantLedger(fn);
        return {
          RUN_LEDGER_TABLE: resources.ledger.table.tableName,
        } satisfies ResourceVariables<'runLedger'>;
      case 'runProgress':
        resources.ledger.grantProgressRead(fn);
        return {
          RUN_LEDGER_TABLE: resources.ledger.table.tableName,
        } satisfies ResourceVariables<'runProgress'>;
      case 'athena':
        resources.analytics.grantQueries(fn);
        return {
          GLUE_DATABASE: resources.analytics.databaseName,
          ATHENA_WORKGROUP: resources.analytics.workGroupName,
        } satisfies ResourceVariables<'athena'>;
      case 'sqlSource':
        return this.#sqlSource(fn);
    }
  }

  /**
   * Secrets the source sends as request headers (an API key, say) live outside the stack: the stage's config names
   * them, and only those are granted. A name is granted with the six-character suffix Secrets Manager adds to it.
   */
  #grantHeaderSecrets(fn: FleetFunction): void {
    for (const name of headerSecretNames(this.#props.config)) {
      const id = `HeaderSecret${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
      const secret =
        (this.node.tryFindChild(id) as ISecret | undefined) ??
        (name.startsWith('arn:')
          ? Secret.fromSecretCompleteArn(this, id, name)
          : Secret.fromSecretNameV2(this, id, name));
      grantSecretValue(fn, secret);
      if (!name.startsWith('arn:')) {
        acknowledge(
          fn.executionRole,
          [wildcardResourceFinding(fn.executionRole, secret.secretArn)],
          `The secret "${name}" named by the stage's source for a request header: Secrets Manager ends every ` +
            "secret's ARN with a random six-character suffix (-??????), which a name cannot know.",
        );
      }
    }
  }

  /** Bundled: nothing to say (QUERIES_DIR defaults to $LAMBDA_TASK_ROOT/queries). GitHub: where, and the token. */
  #sqlSource(fn: FleetFunction): Record<string, string> {
    const source = this.#props.config.sqlSource;
    if (source.kind === 'bundled') return {};
    const token = this.#props.resources.secrets.githubToken;
    token?.grantRead(fn);
    return githubSqlSourceEnvironment(source, token?.secretArn);
  }

  /**
   * A consumer of SqlFileExecuted or EtlDone may receive one by reference (docs/decisions/0060): it reads the
   * stored detail from the results bucket's `event-details/<detail-type>/` folder. A service that reads the results
   * bucket anyway has that already; any other gets read access to those folders only, and RESULTS_BUCKET.
   */
  #eventDetails(declaration: ServiceDeclaration, fn: FleetFunction): void {
    const { trigger } = declaration;
    if (trigger.kind !== 'rule') return;
    const detailTypes = trigger.pattern['detail-type'];
    const claimChecked = (Array.isArray(detailTypes) ? detailTypes : []).filter(
      (t): t is ClaimCheckedDetailType => typeof t === 'string' && isClaimChecked(t),
    );
    if (claimChecked.length === 0) return;
    const access = declaration.buckets?.resultsBucket;
    if (access !== undefined && access !== 'write') return;
    const { results } = this.#props.resources.lake;
    grantEventDetailsRead(fn, results, claimChecked);
    setEnvironment(fn, {
      RESULTS_BUCKET: results.bucketName,
    } satisfies ShapeVariables<typeof EVENT_DETAILS_ENVIRONMENT>);
  }

  #trigger(service: string, fn: FleetFunction, trigger: Trigger): void {
    const { resources, config, subscriptions, undeliveredEvents, retry } = this.#props;
    switch (trigger.kind) {
      case 'queue': {
        // The topology's concurrency is the default budget's; a stage with its own budget gets its own.
        const { maxConcurrency } = downloaderScaling(deployedRateBudget(config), trigger.batchSize);
        resources.tasks.subscribe(fn, { ...trigger, maxConcurrency });
        // As deployed: the downloader shares the API's rate budget among this many instances, and announces a
        // page as failed on its last receive.
        setEnvironment(fn, {
          DOWNLOADER_MAX_CONCURRENCY: String(maxConcurrency),
          MAX_RECEIVE_COUNT: String(resources.tasks.maxReceiveCount),
        } satisfies ShapeVariables<typeof QUEUE_TRIGGER_ENVIRONMENT>);
        return;
      }
      case 'schedule':
        new NightlySchedule(this, `${pascal(service)}Schedule`, {
          // The topology's expression is the default of config.schedule.
          expression: config.schedule,
          handler: fn,
          inputs: trigger.inputs,
          deadLetterQueue: undeliveredEvents,
          retry,
        });
        break;
      case 'rule':
        subscriptions.subscribe(service, fn, trigger.pattern);
        break;
    }
    fn.configureAsyncInvoke({
      retryAttempts: ASYNC_RETRY_ATTEMPTS,
      maxEventAge: ASYNC_MAX_EVENT_AGE,
      onFailure: new FailedInvocationsQueue(this.#props.failedInvocations),
    });
  }
}
