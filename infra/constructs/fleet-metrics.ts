import { Duration } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { EMF_METRICS, type EmfMetricName } from '../../services/shared/metrics-catalog.js';
import type { ServiceName } from '../../services/topology.js';

/** The CloudWatch namespace of a stage: the event metric filters and the functions' EMF lines both write to it. */
export const metricsNamespace = (stage: string): string => `FleetEtl/${stage}`;

/** The dimensions (besides `service`) a metric's declaration names, each to be given a value. */
export type EmfDimensionsOf<N extends EmfMetricName> = Record<
  (typeof EMF_METRICS)[N]['dimensions'][number],
  string
>;

/** The services a metric's declaration says emit it. */
export type EmfServiceOf<N extends EmfMetricName> = (typeof EMF_METRICS)[N]['services'][number];

/**
 * A metric the functions emit in EMF (services/shared/metrics-catalog.ts), as CloudWatch files it: Powertools
 * Metrics adds the dimension `service`, so a metric is one emitting service's, and a dimension the declaration
 * does not name would select a series no code writes.
 */
export function emfMetric<N extends EmfMetricName>(
  stage: string,
  name: N,
  service: EmfServiceOf<N> & ServiceName,
  dimensions: EmfDimensionsOf<N>,
  options: { period?: Duration; statistic?: string } = {},
): Metric {
  return new Metric({
    namespace: metricsNamespace(stage),
    metricName: name,
    dimensionsMap: { service, ...dimensions },
    statistic: options.statistic ?? 'Sum',
    period: options.period ?? Duration.minutes(5),
  });
}

/** The services that emit a metric, as its declaration lists them. */
export const emittersOf = <N extends EmfMetricName>(name: N): readonly EmfServiceOf<N>[] =>
  EMF_METRICS[name].services as readonly EmfServiceOf<N>[];
