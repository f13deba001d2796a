import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import type { SourceStats } from '../../../ports/fleet-source.js';
import { nonEmpty, parseEnvironment } from '../../../shared/environment.js';
import { describeError } from '../../../shared/errors.js';
import { type LogFields, withLogFields } from '../../../shared/log-context.js';
import type { Logger } from '../../../shared/logger.js';
import { type Datapoint, EmfEmitter, sourceTraffic } from './emf-metrics.js';
import { powertoolsLogger } from './powertools-logger.js';

export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;

export interface InstrumentOptions {
  /** Fields every line of the invocation carries, read from the raw event (it is validated later, if at all). */
  fieldsOf?: (event: unknown) => LogFields;
  /** The fleet API client of the entry, whose traffic each invocation reports as metrics. */
  source?: { stats(): SourceStats };
}

/** What a Lambda entry wires: the Logger port for the cores, the metrics emitter, and the handler's wrapper. */
export interface LambdaTelemetry {
  logger: Logger;
  metrics: EmfEmitter;
  instrument<E, R>(handler: LambdaHandler<E, R>, options?: InstrumentOptions): LambdaHandler<E, R>;
}

const TelemetryEnvironmentSchema = z.object({
  /** The CloudWatch namespace of the stage (`FleetEtl/<stage>`), which Powertools Metrics reads itself. */
  POWERTOOLS_METRICS_NAMESPACE: nonEmpty,
});

/**
 * Logs and metrics of one Lambda entry, created once per execution environment, for the service the topology
 * names `service` (the `service` dimension of its metrics). Each invocation: the Lambda context goes on every log
 * line (function name, request id, cold start, X-Ray trace id), the event's fields too; a failure is logged with
 * them before it reaches Lambda; then the stage's duration and the API client's traffic go out as EMF lines,
 * whether the invocation succeeded or not.
 */
export function lambdaTelemetry(service: string, env: NodeJS.ProcessEnv = process.env): LambdaTelemetry {
  const { POWERTOOLS_METRICS_NAMESPACE: namespace } = parseEnvironment(TelemetryEnvironmentSchema, env);
  const powertools = new PowertoolsLogger({ serviceName: service });
  const metrics = new EmfEmitter(new Metrics({ serviceName: service, namespace }));
  const logger = powertoolsLogger(powertools);
  return {
    logger,
    metrics,
    instrument: (handler, options = {}) =>
      async function instrumented(event, context) {
        powertools.addContext(context);
        const startedAt = performance.now();
        const before = options.source?.stats();
        try {
          return await withLogFields(options.fieldsOf?.(event) ?? {}, async () => {
            try {
              return await handler(event, context);
            } catch (error) {
              logger.error('invocation failed', { error: describeError(error) });
              throw error;
            }
          });
        } finally {
          const points: Datapoint[] = [
            { name: 'StageDuration', value: performance.now() - startedAt, dimensions: {} },
          ];
          if (options.source !== undefined && before !== undefined) {
            points.push(...sourceTraffic(before, options.source.stats()));
          }
          metrics.emit(points);
        }
      },
  };
}

const FleetEventFieldsSchema = z.object({
  detail: z.object({
    runId: z.string().optional(),
    dataset: z.string().optional(),
    page: z.number().optional(),
  }),
});

/** runId (and dataset, page where the event has them) of a fleet-etl event, or nothing for another shape. */
export function fleetEventLogFields(event: unknown): LogFields {
  const parsed = FleetEventFieldsSchema.safeParse(event);
  if (!parsed.success) return {};
  const { runId, dataset, page } = parsed.data.detail;
  return {
    ...(runId === undefined ? {} : { runId }),
    ...(dataset === undefined ? {} : { dataset }),
    ...(page === undefined ? {} : { page }),
  };
}
