import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SourceStats } from '../../../ports/fleet-source.js';
import {
  EMF_METRICS,
  type EmfDimension,
  type EmfMetricName,
  transientCauseOf,
} from '../../../shared/metrics-catalog.js';

/** One value of a declared metric, with the dimensions its declaration names (besides `service`). */
export interface Datapoint {
  name: EmfMetricName;
  value: number;
  dimensions: Partial<Record<EmfDimension, string>>;
}

/**
 * What the fleet API client did between two readings of its counters. The client lives as long as the execution
 * environment and counts from its start; one invocation's share is the difference.
 */
export function sourceTraffic(before: SourceStats, after: SourceStats): Datapoint[] {
  const points: Datapoint[] = [
    { name: 'ApiPageRequests', value: after.pageRequests - before.pageRequests, dimensions: {} },
    { name: 'ApiRetries', value: after.retries - before.retries, dimensions: {} },
    { name: 'ApiTokenRequests', value: after.tokenRequests - before.tokenRequests, dimensions: {} },
    { name: 'BudgetWaits', value: after.budgetWaits - before.budgetWaits, dimensions: {} },
    { name: 'BudgetWaitTime', value: after.budgetWaitMs - before.budgetWaitMs, dimensions: {} },
  ];
  const byCause = new Map<string, number>();
  for (const [kind, count] of Object.entries(after.transientFailures)) {
    const added = count - (before.transientFailures[kind] ?? 0);
    if (added <= 0) continue;
    const cause = transientCauseOf(kind);
    byCause.set(cause, (byCause.get(cause) ?? 0) + added);
  }
  for (const [cause, value] of byCause) {
    points.push({ name: 'ApiTransientFailures', value, dimensions: { Cause: cause } });
  }
  return points;
}

/**
 * Writes datapoints as EMF lines through Powertools Metrics: one line per set of dimensions, since every metric
 * of an EMF object shares its object's dimensions. Values of one metric and dimensions are added up first.
 */
export class EmfEmitter {
  constructor(private readonly metrics: Metrics) {}

  emit(points: readonly Datapoint[]): void {
    const groups = new Map<
      string,
      { dimensions: Datapoint['dimensions']; sums: Map<EmfMetricName, number> }
    >();
    for (const point of points) {
      const entries = Object.entries(point.dimensions).sort(([a], [b]) => a.localeCompare(b));
      const key = JSON.stringify(entries);
      const group = groups.get(key) ?? { dimensions: point.dimensions, sums: new Map() };
      group.sums.set(point.name, (group.sums.get(point.name) ?? 0) + point.value);
      groups.set(key, group);
    }
    for (const { dimensions, sums } of groups.values()) {
      for (const [name, value] of Object.entries(dimensions)) this.metrics.addDimension(name, value);
      for (const [name, value] of sums) this.metrics.addMetric(name, EMF_METRICS[name].unit, value);
      this.metrics.publishStoredMetrics();
    }
  }
}
