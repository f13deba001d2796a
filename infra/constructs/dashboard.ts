import { Duration } from 'aws-cdk-lib';
import {
  Dashboard,
  GraphWidget,
  MathExpression,
  type Metric,
  SingleValueWidget,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { StageSchema } from '../../events/index.js';
import { TRANSIENT_CAUSES } from '../../services/shared/metrics-catalog.js';
import { DATASETS } from '../../services/topology.js';
import type { EventMetrics } from './event-metrics.js';
import type { FleetFunction } from './fleet-function.js';
import { emfMetric, emittersOf } from './fleet-metrics.js';

export interface PipelineDashboardProps {
  stage: string;
  metrics: EventMetrics;
  /** By service name, as the topology declares them. */
  functions: ReadonlyMap<string, FleetFunction>;
  tasksQueue: IQueue;
  deadLetterQueues: ReadonlyMap<string, IQueue>;
}

const HOURLY = Duration.hours(1);

/** One page per stage: what the nights did (pages, rows, bytes, SQL), what failed, and how the functions ran. */
export class PipelineDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    const { metrics } = props;
    const perDataset = (name: 'PagesPlanned' | 'PagesDownloaded' | 'RowsDownloaded' | 'BytesDownloaded') =>
      DATASETS.map((dataset) => metrics.metric(name, { Dataset: dataset }, HOURLY).with({ label: dataset }));
    const perFunction = (metric: (fn: FleetFunction) => Metric) =>
      [...props.functions].map(([service, fn]) => metric(fn).with({ label: service }));

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `fleet-etl-${props.stage}`,
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# fleet-etl ${props.stage}\nNightly runs from the domain events (namespace \`${metrics.namespace}\`).`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new SingleValueWidget({
        title: 'Runs (last day)',
        metrics: [
          metrics.metric('RunsSucceeded', {}, Duration.days(1)).with({ label: 'succeeded' }),
          ...StageSchema.options.map((stage) =>
            metrics
              .metric('RunsFailed', { Stage: stage }, Duration.days(1))
              .with({ label: `failed in ${stage}` }),
          ),
        ],
        width: 24,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Pages planned', left: perDataset('PagesPlanned'), width: 6 }),
      new GraphWidget({ title: 'Pages downloaded', left: perDataset('PagesDownloaded'), width: 6 }),
      new GraphWidget({ title: 'Rows downloaded', left: perDataset('RowsDownloaded'), width: 6 }),
      new GraphWidget({ title: 'Bytes downloaded', left: perDataset('BytesDownloaded'), width: 6 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'SQL files: duration (ms) and data scanned (bytes)',
        left: [
          metrics.metric('SqlFileDuration', {}, HOURLY).with({ statistic: 'Maximum', label: 'slowest file' }),
        ],
        right: [metrics.metric('SqlDataScanned', {}, HOURLY).with({ label: 'bytes scanned' })],
        width: 12,
      }),
      new GraphWidget({
        title: 'Tasks queue and dead letters',
        left: [
          props.tasksQueue.metricApproximateNumberOfMessagesVisible({ label: 'tasks waiting' }),
          props.tasksQueue.metricApproximateAgeOfOldestMessage({ label: 'oldest task (s)' }),
        ],
        right: [...props.deadLetterQueues].map(([name, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({ label: name, statistic: 'Maximum' }),
        ),
        width: 12,
      }),
    );
    this.#addFunctionMetrics(props.stage, metrics);
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Invocations', left: perFunction((fn) => fn.metricInvocations()), width: 6 }),
      new GraphWidget({ title: 'Errors', left: perFunction((fn) => fn.metricErrors()), width: 6 }),
      new GraphWidget({
        title: 'Duration p90 (ms)',
        left: perFunction((fn) => fn.metricDuration({ statistic: 'p90' })),
        width: 6,
      }),
      new GraphWidget({ title: 'Throttles', left: perFunction((fn) => fn.metricThrottles()), width: 6 }),
    );
  }

  /**
   * What only the functions know, from their EMF lines (services/shared/metrics-catalog.ts): the API traffic, the
   * rate budget's waits, the rows left out, and how long each stage's invocations take.
   */
  #addFunctionMetrics(stage: string, metrics: EventMetrics): void {
    const hourly = { period: HOURLY };
    const perEmitter = (
      name: 'ApiPageRequests' | 'ApiRetries' | 'ApiTokenRequests' | 'BudgetWaits' | 'BudgetWaitTime',
    ) =>
      emittersOf(name).map((service) =>
        emfMetric(stage, name, service, {}, hourly).with({ label: `${service} ${name}` }),
      );
    // One line per cause, the services added up: the planner's one request per dataset and the downloader's pages.
    const failuresByCause = TRANSIENT_CAUSES.map((cause) => {
      const usingMetrics = Object.fromEntries(
        // Ids are unique within a graph: `downloader_http_429`.
        emittersOf('ApiTransientFailures').map((service) => [
          `${service}_${cause.replaceAll('-', '_')}`,
          emfMetric(stage, 'ApiTransientFailures', service, { Cause: cause }, hourly),
        ]),
      );
      return new MathExpression({
        expression: Object.keys(usingMetrics).join(' + '),
        usingMetrics,
        label: cause,
        period: HOURLY,
      });
    });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Fleet API: page requests, retries, tokens',
        left: [...perEmitter('ApiPageRequests'), ...perEmitter('ApiRetries')],
        right: perEmitter('ApiTokenRequests'),
        width: 8,
      }),
      new GraphWidget({
        title: 'Fleet API: failures retried, by cause (429s: http-429)',
        left: failuresByCause,
        width: 8,
      }),
      new GraphWidget({
        title: 'Rate budget: requests that waited, and the time waited (ms)',
        left: perEmitter('BudgetWaits'),
        right: perEmitter('BudgetWaitTime'),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Rows left out: quarantined, outside the window, readings of unknown vehicles',
        left: [
          ...DATASETS.map((dataset) =>
            emfMetric(stage, 'RowsQuarantined', 'downloader', { Dataset: dataset }, hourly).with({
              label: `${dataset} quarantined`,
            }),
          ),
          ...DATASETS.map((dataset) =>
            metrics
              .metric('RowsOutsideWindow', { Dataset: dataset }, HOURLY)
              .with({ label: `${dataset} outside the window` }),
          ),
          metrics
            .metric('UnknownVehicleReadings', {}, HOURLY)
            .with({ label: 'readings of unknown vehicles' }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Stage duration, longest invocation (ms)',
        left: emittersOf('StageDuration').map((service) =>
          emfMetric(stage, 'StageDuration', service, {}, { period: HOURLY, statistic: 'Maximum' }).with({
            label: service,
          }),
        ),
        width: 12,
      }),
    );
  }
}
