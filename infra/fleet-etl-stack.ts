import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { type ServiceDeclaration, type TopologyDeclaration, topology } from '../services/topology.js';
import type { DeploymentConfig } from './config.js';
import { Alerts } from './constructs/alerts.js';
import { Analytics } from './constructs/analytics.js';
import { PipelineDashboard } from './constructs/dashboard.js';
import { DataLake } from './constructs/data-lake.js';
import { DeadLetters } from './constructs/dead-letters.js';
import { EncryptionKey } from './constructs/encryption-key.js';
import { FleetEventBus } from './constructs/event-bus.js';
import { EventMetrics } from './constructs/event-metrics.js';
import { EventSchemas } from './constructs/event-schemas.js';
import { EventSubscriptions, type TargetRetry } from './constructs/event-subscriptions.js';
import { PipelineServices } from './constructs/pipeline-services.js';
import { RunLedger } from './constructs/run-ledger.js';
import { PipelineSecrets } from './constructs/secrets.js';
import { TasksQueue } from './constructs/tasks-queue.js';
import { InvalidDeploymentError } from './errors.js';
import { stageNames } from './naming.js';

export interface FleetEtlStackProps extends StackProps {
  config: DeploymentConfig;
  /** The services and queues to deploy: services/topology.ts unless a test declares others. */
  topology?: TopologyDeclaration;
}

/**
 * EventBridge's retries of a delivery to a target: its default is 24 hours and 185 attempts; a nightly run wants
 * to hear within hours that an event could not be delivered, from the dead-letter queue's alarm.
 */
const TARGET_RETRY: TargetRetry = { maxEventAge: Duration.hours(6), retryAttempts: 20 };

/** The service the topology wires to the tasks queue: its timeout sets the queue's visibility floor. */
function tasksConsumer(declared: TopologyDeclaration): ServiceDeclaration {
  const consumers = Object.values(declared.services).filter(
    ({ trigger }) => trigger.kind === 'queue' && trigger.queue === 'tasks',
  );
  const [consumer, ...others] = consumers;
  if (consumer === undefined || others.length > 0) {
    throw new InvalidDeploymentError(`the tasks queue needs exactly one consumer, found ${consumers.length}`);
  }
  return consumer;
}

/**
 * One stage of fleet-etl, derived from services/topology.ts. The stack only wires constructs; each construct owns
 * one concern (key, buckets, analytics, ledger, secrets, bus, queues, functions, alerts, metrics).
 */
export class FleetEtlStack extends Stack {
  readonly encryption: EncryptionKey;
  readonly deadLetters: DeadLetters;
  readonly lake: DataLake;
  readonly analytics: Analytics;
  readonly ledger: RunLedger;
  readonly secrets: PipelineSecrets;
  readonly bus: FleetEventBus;
  readonly tasks: TasksQueue;
  readonly subscriptions: EventSubscriptions;
  readonly services: PipelineServices;
  readonly metrics: EventMetrics;
  readonly alerts: Alerts;

  constructor(scope: Construct, id: string, props: FleetEtlStackProps) {
    super(scope, id, {
      description: `fleet-etl ${props.config.stage}: nightly fleet API pulls to S3, Athena SQL to Parquet`,
      ...props,
    });
    const { config } = props;
    const declared = props.topology ?? topology;
    const names = stageNames(config.stage);
    const removalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    Tags.of(this).add('project', 'fleet-etl');
    Tags.of(this).add('stage', config.stage);

    this.encryption = new EncryptionKey(this, 'Encryption', { stage: config.stage, removalPolicy });
    const key = this.encryption.key;
    // EventBridge writes into the encrypted dead-letter queue and alert topic with its own credentials
    // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
    this.encryption.allowServiceToEncrypt('events.amazonaws.com', 'AllowEventBridgeToUseEncryptedTargets');
    // Every log group (the functions' and the events log) is encrypted with the stage key too.
    this.encryption.allowLogsToEncrypt();

    this.deadLetters = new DeadLetters(this, 'DeadLetters', { key });
    this.lake = new DataLake(this, 'Lake', {
      key,
      removalPolicy,
      queryResultsRetentionDays: config.queryResultsRetentionDays,
    });
    this.analytics = new Analytics(this, 'Analytics', {
      databaseName: names.database,
      workGroupName: names.workGroup,
      resultsBucket: this.lake.results,
      key,
      bytesScannedCutoffPerQuery: config.athenaBytesScannedCutoff,
    });
    this.ledger = new RunLedger(this, 'RunLedger', {
      key,
      removalPolicy,
      ...(config.runLedgerTtlAttribute === undefined
        ? {}
        : { timeToLiveAttribute: config.runLedgerTtlAttribute }),
    });
    this.secrets = new PipelineSecrets(this, 'Secrets', {
      stage: config.stage,
      key,
      removalPolicy,
      githubToken: config.sqlSource.kind === 'github' && config.sqlSource.useToken,
    });
    this.bus = new FleetEventBus(this, 'Events', {
      busName: names.bus,
      key,
      archiveRetentionDays: config.archiveRetentionDays,
      deadLetterQueue: this.deadLetters.keyFailures,
    });
    this.tasks = new TasksQueue(this, 'Tasks', {
      key,
      settings: declared.queues.tasks,
      consumerTimeout: Duration.seconds(tasksConsumer(declared).timeoutSeconds),
    });
    this.subscriptions = new EventSubscriptions(this, 'Subscriptions', {
      bus: this.bus.bus,
      busName: names.bus,
      deadLetterQueue: this.deadLetters.undeliveredEvents,
      retry: TARGET_RETRY,
    });
    this.services = new PipelineServices(this, 'Services', {
      config,
      resources: {
        lake: this.lake,
        analytics: this.analytics,
        ledger: this.ledger,
        secrets: this.secrets,
        tasks: this.tasks,
        bus: this.bus,
      },
      subscriptions: this.subscriptions,
      undeliveredEvents: this.deadLetters.undeliveredEvents,
      failedInvocations: this.deadLetters.failedInvocations,
      retry: TARGET_RETRY,
      logRetention: config.logRetentionDays,
      logKey: key,
      removalPolicy,
      topology: declared,
    });

    new EventSchemas(this, 'Schemas', { registryName: names.bus });

    this.metrics = new EventMetrics(this, 'Metrics', {
      stage: config.stage,
      bus: this.bus.bus,
      retention: config.logRetentionDays,
      key,
      removalPolicy,
      deadLetterQueue: this.deadLetters.undeliveredEvents,
      retry: TARGET_RETRY,
    });
    this.alerts = new Alerts(this, 'Alerts', {
      stage: config.stage,
      key: this.encryption,
      ...(config.alarmEmail === undefined ? {} : { email: config.alarmEmail }),
    });
    const deadLetterQueues = new Map([
      ['download tasks', this.tasks.deadLetterQueue],
      ['undelivered events', this.deadLetters.undeliveredEvents],
      ['failed invocations', this.deadLetters.failedInvocations],
      ['events the key refused', this.deadLetters.keyFailures],
    ]);
    this.alerts.whenNotEmpty(
      'TasksDeadLetters',
      this.tasks.deadLetterQueue,
      'download tasks failed maxReceiveCount times',
    );
    this.alerts.whenNotEmpty(
      'UndeliveredEvents',
      this.deadLetters.undeliveredEvents,
      'EventBridge could not deliver events',
    );
    this.alerts.whenNotEmpty(
      'FailedInvocations',
      this.deadLetters.failedInvocations,
      'a function failed after its retries',
    );
    this.alerts.whenNotEmpty(
      'KeyFailures',
      this.deadLetters.keyFailures,
      'EventBridge could not encrypt or decrypt events with the stage key',
    );
    this.alerts.whenNoRunSucceeded(
      'NoRunSucceeded',
      this.metrics.metric('RunsSucceeded', {}, Duration.days(1)),
    );
    this.alerts.notifyOnFailedRuns(this.bus.bus, this.deadLetters.undeliveredEvents, TARGET_RETRY);
    const dashboard = new PipelineDashboard(this, 'Dashboard', {
      stage: config.stage,
      metrics: this.metrics,
      functions: this.services.functions,
      tasksQueue: this.tasks.queue,
      deadLetterQueues,
    });

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('EventBusName', this.bus.bus.eventBusName, 'Custom bus of the domain events');
    output('EventBusArn', this.bus.bus.eventBusArn, 'Custom bus (etl replay --bus-arn)');
    output('ArchiveArn', this.bus.archive.archiveArn, 'Archive of the bus (etl replay --archive-arn)');
    output('TasksQueueUrl', this.tasks.queue.queueUrl, 'Download tasks');
    output('RawBucketName', this.lake.raw.bucketName, 'Raw NDJSON pages');
    output('WarehouseBucketName', this.lake.warehouse.bucketName, 'Parquet warehouse');
    output('ResultsBucketName', this.lake.results.bucketName, 'Query results and reports');
    output('RunLedgerTableName', this.ledger.table.tableName, 'Run ledger');
    output('GlueDatabaseName', this.analytics.databaseName, 'Glue database of the tables');
    output('AthenaWorkGroupName', this.analytics.workGroupName, 'Athena workgroup to query the warehouse in');
    output(
      'FleetApiSecretArn',
      this.secrets.fleetApiClientSecret.secretArn,
      'Put the API client secret here',
    );
    if (this.secrets.githubToken !== undefined) {
      output('GitHubTokenSecretArn', this.secrets.githubToken.secretArn, 'Put the GitHub token here');
    }
    for (const [service, fn] of this.services.functions) {
      output(
        `${service.charAt(0).toUpperCase()}${service.slice(1)}FunctionName`,
        fn.functionName,
        fn.node.id,
      );
    }
    output('AlertTopicArn', this.alerts.topic.topicArn, 'Alarms and failed runs');
    output(
      'DashboardUrl',
      `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${dashboard.dashboard.dashboardName}`,
      'CloudWatch dashboard',
    );
  }
}
