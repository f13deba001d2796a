import { Duration } from 'aws-cdk-lib';
import {
  Dashboard,
  GraphWidget,
  type Metric,
  SingleValueWidget,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { StageSchema } from '../../../events/index.js';
import { DATASETS } from '../../topology.js';
import type { EventMetrics } from './event-metrics.js';
import type { FleetFunction } from './fleet-function.js';

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
}
