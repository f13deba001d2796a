import { type DetailTypeName, detailSchemas } from '../../events/index.js';
import { metricsNamespace } from '../../infra/constructs/fleet-metrics.js';
import { EMF_METRICS, type EmfMetricName, emfMetricNames } from '../../services/shared/metrics-catalog.js';
import { serviceNames } from '../../services/topology.js';
import { validDetails } from '../helpers/samples.js';
import { discard, type Synthesized, synthesize, testConfig } from './helpers/synth.js';
import { propertiesOf, resourcesOf } from './helpers/template.js';

/**
 * Every metric the dashboard and the alarms show must be one the stage writes: either a metric filter's, whose
 * fields an event contract carries, or one the functions emit in EMF, as services/shared/metrics-catalog.ts
 * declares it (the dimension `service` of an emitting service, and exactly the declared dimensions).
 */

const STAGE = 'obs';
let synthesized: Synthesized;

beforeAll(() => {
  synthesized = synthesize(testConfig({ stage: STAGE }), { cloudFormationValidation: false });
}, 120_000);
afterAll(() => discard(synthesized));

/**
 * One event of each detail-type, every optional field the metric filters read filled in, each validated by the
 * schema the publish helper validates with: what a service can publish.
 */
const published: Record<DetailTypeName, unknown> = {
  ...validDetails,
  PageDownloaded: { ...validDetails.PageDownloaded, outsideWindow: 12 },
  EtlDone: {
    ...validDetails.EtlDone,
    unknownVehicles: { readings: 1_000, unknownVehicleReadings: 7, unknownVehicles: 2 },
  },
};
const publishedEvents = Object.entries(published).map(([detailType, detail]) => ({
  detailType,
  event: {
    source: 'fleet-etl',
    'detail-type': detailType,
    detail: detailSchemas[detailType as DetailTypeName].parse(detail),
  },
}));

/** `$.detail.a.b` on a JSON value. */
function atPath(value: unknown, path: string): unknown {
  if (!path.startsWith('$.')) throw new Error(`not a JSON path: ${path}`);
  return path
    .slice(2)
    .split('.')
    .reduce<unknown>(
      (node, key) =>
        typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined,
      value,
    );
}

/** The metric filter patterns the app writes: `{ $.x >= 0 }` (numberValue) and `{ $.x = "*" }` (exists). */
function matches(pattern: string, event: unknown): boolean {
  const numeric = /^\{ *(\$[.\w]+) *>= *(-?\d+) *\}$/.exec(pattern);
  if (numeric?.[1] !== undefined) {
    const value = atPath(event, numeric[1]);
    return typeof value === 'number' && value >= Number(numeric[2]);
  }
  const exists = /^\{ *(\$[.\w]+) *= *"?\*"? *\}$/.exec(pattern);
  if (exists?.[1] !== undefined) return atPath(event, exists[1]) !== undefined;
  throw new Error(`a filter pattern this test cannot read: ${pattern}`);
}

interface FilterMetric {
  name: string;
  dimensions: string[];
}

function metricFilters() {
  return resourcesOf(synthesized.template, 'AWS::Logs::MetricFilter').map(([, resource]) => {
    const props = propertiesOf(resource);
    const [transformation] = props.MetricTransformations as {
      MetricName: string;
      MetricNamespace: string;
      MetricValue: string;
      Dimensions?: { Key: string; Value: string }[];
    }[];
    if (transformation === undefined) throw new Error('a metric filter without a transformation');
    return { pattern: String(props.FilterPattern), ...transformation };
  });
}

describe('the metric filters', () => {
  it('each match the events of exactly one detail-type, and read a number and string dimensions off them', () => {
    const filters = metricFilters();
    expect(filters.length).toBeGreaterThan(0);
    for (const filter of filters) {
      const matched = publishedEvents.filter(({ event }) => matches(filter.pattern, event));
      expect({ metric: filter.MetricName, matched: matched.length }).toEqual({
        metric: filter.MetricName,
        matched: 1,
      });
      const { event } = matched[0] ?? {};
      const value = filter.MetricValue.startsWith('$.')
        ? atPath(event, filter.MetricValue)
        : Number(filter.MetricValue);
      expect({ metric: filter.MetricName, value: typeof value }).toEqual({
        metric: filter.MetricName,
        value: 'number',
      });
      for (const dimension of filter.Dimensions ?? []) {
        expect({ metric: filter.MetricName, [dimension.Key]: typeof atPath(event, dimension.Value) }).toEqual(
          {
            metric: filter.MetricName,
            [dimension.Key]: 'string',
          },
        );
      }
      expect(filter.MetricNamespace).toBe(metricsNamespace(STAGE));
    }
  });

  it('use no name the functions emit in EMF, so no series is written two ways', () => {
    const emf = new Set<string>(emfMetricNames);
    expect(metricFilters().filter((f) => emf.has(f.MetricName))).toEqual([]);
  });
});

/**
 * The dashboard body as text: an Fn::Join whose parts are text and references (region, queue names, function
 * names). References become a placeholder, which only ever stands inside a JSON string of the body.
 */
function joinedText(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join === undefined) return 'REFERENCE';
  return join[1].map(joinedText).join(join[0]);
}

/** [namespace, name, key, value, ..., options?] as a dashboard body lists a metric. */
function dashboardMetrics(): { name: string; dimensions: Record<string, string> }[] {
  const [[, dashboard]] = resourcesOf(synthesized.template, 'AWS::CloudWatch::Dashboard') as [
    [string, never],
  ];
  const body = JSON.parse(joinedText(propertiesOf(dashboard).DashboardBody)) as {
    widgets: { properties: { metrics?: unknown[][] } }[];
  };
  const found: { name: string; dimensions: Record<string, string> }[] = [];
  for (const widget of body.widgets) {
    for (const line of widget.properties.metrics ?? []) {
      const strings = line.filter((part): part is string => typeof part === 'string');
      const [namespace, name, ...pairs] = strings;
      if (namespace !== metricsNamespace(STAGE) || name === undefined) continue;
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i] as string] = pairs[i + 1] as string;
      found.push({ name, dimensions });
    }
  }
  return found;
}

/** Whether the stage writes this series: a filter's metric with its dimensions, or a declared EMF metric. */
function written(
  metric: { name: string; dimensions: Record<string, string> },
  filters: FilterMetric[],
): boolean {
  const keys = Object.keys(metric.dimensions).sort();
  const filter = filters.find((f) => f.name === metric.name);
  if (filter !== undefined) return JSON.stringify(keys) === JSON.stringify([...filter.dimensions].sort());
  if (!Object.hasOwn(EMF_METRICS, metric.name)) return false;
  const declared = EMF_METRICS[metric.name as EmfMetricName];
  const services: readonly string[] = declared.services;
  return (
    services.includes(metric.dimensions.service ?? '') &&
    JSON.stringify(keys) === JSON.stringify(['service', ...declared.dimensions].sort())
  );
}

describe('the dashboard and the alarms', () => {
  const filters = () =>
    metricFilters().map((f) => ({ name: f.MetricName, dimensions: (f.Dimensions ?? []).map((d) => d.Key) }));

  it('show only metrics the stage writes', () => {
    const shown = dashboardMetrics();
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.filter((metric) => !written(metric, filters()))).toEqual([]);
  });

  it('show every metric the functions emit, for every service that emits it', () => {
    const shown = dashboardMetrics();
    const missing = emfMetricNames.flatMap((name) =>
      EMF_METRICS[name].services
        .filter((service) => !shown.some((m) => m.name === name && m.dimensions.service === service))
        .map((service) => `${name} of ${service}`),
    );
    expect(missing).toEqual([]);
  });

  it('alarm only on metrics the stage writes', () => {
    const alarms = resourcesOf(synthesized.template, 'AWS::CloudWatch::Alarm')
      .map(([, alarm]) => propertiesOf(alarm))
      .filter((props) => props.Namespace === metricsNamespace(STAGE))
      .map((props) => ({
        name: String(props.MetricName),
        dimensions: Object.fromEntries(
          ((props.Dimensions ?? []) as { Name: string; Value: string }[]).map((d) => [d.Name, d.Value]),
        ),
      }));
    expect(alarms.length).toBeGreaterThan(0);
    expect(alarms.filter((metric) => !written(metric, filters()))).toEqual([]);
  });
});

describe('the functions', () => {
  it('are each told the namespace their EMF lines go to, and are declared as emitters by their service name', () => {
    const functions = resourcesOf(synthesized.template, 'AWS::Lambda::Function').filter(
      ([, fn]) =>
        (propertiesOf(fn).Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables,
    );
    const namespaces = functions.map(
      ([, fn]) =>
        (propertiesOf(fn).Environment as { Variables: Record<string, unknown> }).Variables
          .POWERTOOLS_METRICS_NAMESPACE,
    );
    expect(namespaces).toEqual(serviceNames.map(() => metricsNamespace(STAGE)));
    const known: readonly string[] = serviceNames;
    for (const name of emfMetricNames) for (const s of EMF_METRICS[name].services) expect(known).toContain(s);
  });

  it('trace with Lambda active tracing (decision 83)', () => {
    for (const [, fn] of resourcesOf(synthesized.template, 'AWS::Lambda::Function')) {
      if (!(propertiesOf(fn).Environment as { Variables?: unknown } | undefined)?.Variables) continue;
      expect(propertiesOf(fn).TracingConfig).toEqual({ Mode: 'Active' });
    }
  });
});
