import { ArnFormat, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Metric, Unit } from 'aws-cdk-lib/aws-cloudwatch';
import type { IEventBus, IRule, IRuleTarget, RuleTargetConfig } from 'aws-cdk-lib/aws-events';
import { addToDeadLetterQueueResourcePolicy, bindBaseTargetConfig } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  FilterPattern,
  type IFilterPattern,
  LogGroup,
  MetricFilter,
  type RetentionDays,
} from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../events/index.js';
import { LIVE_ONLY } from '../../services/topology.js';
import { patternRule } from '../event-pattern.js';
import type { TargetRetry } from './event-subscriptions.js';
import { metricsNamespace } from './fleet-metrics.js';

export interface EventMetricsProps {
  stage: string;
  bus: IEventBus;
  retention: RetentionDays;
  /** The stage's key, which encrypts the events log group. */
  key: IKey;
  removalPolicy: RemovalPolicy;
  deadLetterQueue: IQueue;
  retry: TargetRetry;
}

/** One metric read off the recorded events: which events (a field only that detail-type has) and which value. */
interface EventMetricSpec {
  name: string;
  pattern: IFilterPattern;
  value: string;
  unit?: Unit;
  dimensions?: Record<string, string>;
}

/**
 * Metrics derived from the domain events rather than from log lines: the events are validated contracts
 * (events/detail), so the numbers cannot drift from what the services announced. Each filter matches a field
 * that only one detail-type carries (totalPages: PagesPlanned; bytes, outsideWindow: PageDownloaded; statements:
 * SqlFileExecuted; summary, unknownVehicles: EtlDone; reason: EtlFailed). What no event carries, the functions
 * emit in EMF (services/shared/metrics-catalog.ts).
 */
export const EVENT_METRICS = [
  {
    name: 'PagesPlanned',
    pattern: FilterPattern.numberValue('$.detail.totalPages', '>=', 0),
    value: '$.detail.totalPages',
    dimensions: { Dataset: '$.detail.dataset' },
  },
  {
    name: 'PagesDownloaded',
    pattern: FilterPattern.numberValue('$.detail.bytes', '>=', 0),
    value: '1',
    dimensions: { Dataset: '$.detail.dataset' },
  },
  {
    name: 'RowsDownloaded',
    pattern: FilterPattern.numberValue('$.detail.bytes', '>=', 0),
    value: '$.detail.rows',
    dimensions: { Dataset: '$.detail.dataset' },
  },
  {
    name: 'BytesDownloaded',
    pattern: FilterPattern.numberValue('$.detail.bytes', '>=', 0),
    value: '$.detail.bytes',
    unit: Unit.BYTES,
    dimensions: { Dataset: '$.detail.dataset' },
  },
  {
    // Rows of neighbouring nights the API sent for the window rounded outward, left out (decision 73).
    name: 'RowsOutsideWindow',
    pattern: FilterPattern.numberValue('$.detail.outsideWindow', '>=', 0),
    value: '$.detail.outsideWindow',
    dimensions: { Dataset: '$.detail.dataset' },
  },
  {
    // Readings the sensor join dropped for a vehicle not in vehicles_data; EtlDone carries the run's count at
    // detail.unknownVehicles (SqlFileExecuted has it under runSoFar, so this path matches EtlDone only).
    name: 'UnknownVehicleReadings',
    pattern: FilterPattern.numberValue('$.detail.unknownVehicles.unknownVehicleReadings', '>=', 0),
    value: '$.detail.unknownVehicles.unknownVehicleReadings',
  },
  {
    name: 'SqlFileDuration',
    pattern: FilterPattern.numberValue('$.detail.statements', '>=', 0),
    value: '$.detail.durationMs',
    unit: Unit.MILLISECONDS,
  },
  {
    name: 'SqlDataScanned',
    pattern: FilterPattern.numberValue('$.detail.statements', '>=', 0),
    value: '$.detail.dataScannedBytes',
    unit: Unit.BYTES,
  },
  {
    name: 'RunsSucceeded',
    pattern: FilterPattern.numberValue('$.detail.summary.durationMs', '>=', 0),
    value: '1',
  },
  {
    name: 'RunsFailed',
    pattern: FilterPattern.exists('$.detail.reason'),
    value: '1',
    dimensions: { Stage: '$.detail.stage' },
  },
] as const satisfies readonly EventMetricSpec[];

export type EventMetricName = (typeof EVENT_METRICS)[number]['name'];

/**
 * Sends the rule's events to a log group. CDK's CloudWatchLogGroup target installs the log group's resource
 * policy through a custom-resource Lambda allowed to call logs:PutResourcePolicy on "*"; the native
 * AWS::Logs::ResourcePolicy (LogGroup.addToResourcePolicy) does the same without it.
 */
class LogGroupTarget implements IRuleTarget {
  constructor(
    private readonly logGroup: LogGroup,
    private readonly deadLetterQueue: IQueue,
    private readonly retry: TargetRetry,
  ) {}

  bind(rule: IRule): RuleTargetConfig {
    addToDeadLetterQueueResourcePolicy(rule, this.deadLetterQueue);
    return {
      ...bindBaseTargetConfig({ deadLetterQueue: this.deadLetterQueue, ...this.retry }),
      // The target wants the log group ARN without the ":*" that LogGroup.logGroupArn ends with.
      arn: Stack.of(this.logGroup).formatArn({
        service: 'logs',
        resource: 'log-group',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        resourceName: this.logGroup.logGroupName,
      }),
      targetResource: this.logGroup,
    };
  }
}

/**
 * Records every fleet-etl event of the bus in a log group (readable with Logs Insights: one JSON event per line)
 * and turns them into CloudWatch metrics in the `FleetEtl/<stage>` namespace.
 */
export class EventMetrics extends Construct {
  readonly logGroup: LogGroup;
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: EventMetricsProps) {
    super(scope, id);
    this.namespace = metricsNamespace(props.stage);
    // EventBridge writes only to log groups whose name starts with /aws/events/
    // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-targets.html).
    this.logGroup = new LogGroup(this, 'Events', {
      logGroupName: `/aws/events/fleet-etl-${props.stage}`,
      retention: props.retention,
      encryptionKey: props.key,
      removalPolicy: props.removalPolicy,
    });
    this.logGroup.addToResourcePolicy(
      new PolicyStatement({
        principals: [
          new ServicePrincipal('events.amazonaws.com'),
          new ServicePrincipal('delivery.logs.amazonaws.com'),
        ],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    // Replays are left out: they would count a night twice (the archive keeps them anyway).
    const rule = patternRule(this, 'Record', {
      eventBus: props.bus,
      description: 'fleet-etl live events to the events log group (metrics, Logs Insights)',
      pattern: { source: [EVENT_SOURCE], ...LIVE_ONLY },
    });
    rule.addTarget(new LogGroupTarget(this.logGroup, props.deadLetterQueue, props.retry));
    for (const spec of EVENT_METRICS) {
      new MetricFilter(this, spec.name, {
        logGroup: this.logGroup,
        filterPattern: spec.pattern,
        metricNamespace: this.namespace,
        metricName: spec.name,
        metricValue: spec.value,
        ...('dimensions' in spec ? { dimensions: spec.dimensions } : {}),
        ...('unit' in spec ? { unit: spec.unit } : {}),
      });
    }
  }

  /** A metric of the namespace; dimensioned metrics need their dimension (e.g. `{ Dataset: 'sensors' }`). */
  metric(
    name: EventMetricName,
    dimensions: Record<string, string> = {},
    period = Duration.minutes(5),
  ): Metric {
    return new Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap: dimensions,
      statistic: 'Sum',
      period,
    });
  }
}
