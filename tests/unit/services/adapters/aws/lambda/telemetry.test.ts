import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { lambdaContext } from '../../../../../../local/lambda-context.js';
import {
  fleetEventLogFields,
  lambdaTelemetry,
} from '../../../../../../services/adapters/aws/lambda/telemetry.js';
import { createDownloaderHandler } from '../../../../../../services/downloader/handler.js';
import { quarantinedRowsMetric } from '../../../../../../services/downloader/lambda-quarantined-rows-metric.js';
import type {
  FetchedPage,
  PageRequest,
  PageSink,
  SourceStats,
} from '../../../../../../services/ports/fleet-source.js';
import { EMF_METRICS, type EmfMetricName } from '../../../../../../services/shared/metrics-catalog.js';
import { envelope, FakeSource, MemoryObjectStore, RecordingPublisher } from '../../../../../helpers/fakes.js';
import { runId, validDetails, window } from '../../../../../helpers/samples.js';

const NAMESPACE = 'FleetEtl/test';

const EmfLineSchema = z.looseObject({
  _aws: z.object({
    Timestamp: z.number(),
    CloudWatchMetrics: z.array(
      z.object({
        Namespace: z.string(),
        Dimensions: z.array(z.array(z.string())),
        Metrics: z.array(z.object({ Name: z.string(), Unit: z.string() })),
      }),
    ),
  }),
});
const LogLineSchema = z.looseObject({ level: z.string(), message: z.string(), service: z.string() });

/** What the Lambda entry writes to stdout during `work`, split into log lines and EMF lines. */
async function stdoutOf(work: () => Promise<unknown>) {
  const written: string[] = [];
  // Powertools writes through its own Console on process.stdout, so the stream's write is where to listen.
  // (warnings and errors go to stderr).
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof stream.write;
  }
  try {
    await work();
  } finally {
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
  }
  const objects = written
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    logs: objects.filter((o) => !('_aws' in o)).map((o) => LogLineSchema.parse(o)),
    emf: objects.filter((o) => '_aws' in o).map((o) => EmfLineSchema.parse(o)),
  };
}

/** Each EMF metric with its value and dimensions, checked against its declaration on the way. */
function metricsOf(emf: z.infer<typeof EmfLineSchema>[]) {
  return emf.flatMap((line) =>
    line._aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Metrics.map((metric) => {
        const declared = EMF_METRICS[metric.Name as EmfMetricName];
        expect(declared).toBeDefined();
        expect(directive.Namespace).toBe(NAMESPACE);
        expect(metric.Unit).toBe(declared.unit);
        expect(directive.Dimensions).toEqual([['service', ...declared.dimensions]]);
        const dimensions = Object.fromEntries(
          (directive.Dimensions[0] ?? []).map((key) => [key, String(line[key])]),
        );
        return { name: metric.Name, value: line[metric.Name], dimensions };
      }),
    ),
  );
}

const stats = (overrides: Partial<SourceStats> = {}): SourceStats => ({
  pageRequests: 0,
  retries: 0,
  tokenRequests: 0,
  transientFailures: {},
  maxInFlight: 0,
  budgetWaits: 0,
  budgetWaitMs: 0,
  ...overrides,
});

// What Lambda sets for an on-demand execution environment: Powertools reports cold starts only then.
const initializationType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
beforeAll(() => {
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
});
afterAll(() => {
  if (initializationType === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
  else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = initializationType;
});

describe('the Lambda entry telemetry', () => {
  it('puts the Lambda context and the event fields on every line, the failure line included', async () => {
    // Prepare
    const telemetry = lambdaTelemetry('queryRunner', { POWERTOOLS_METRICS_NAMESPACE: NAMESPACE });
    const handler = telemetry.instrument(
      async (event: unknown) => {
        telemetry.logger.info('sql file executed', { file: '10_raw_tables.sql' });
        if (fleetEventLogFields(event).runId === '2026-11-25') throw new RangeError('Athena said no');
        return 'ok';
      },
      { fieldsOf: fleetEventLogFields },
    );
    const first = lambdaContext('fleet-etl-query-runner', 30);
    const second = lambdaContext('fleet-etl-query-runner', 30);

    // Act
    const { logs, emf } = await stdoutOf(async () => {
      await handler(envelope('DownloadsDrained', validDetails.DownloadsDrained), first);
      await expect(
        handler(
          envelope('DownloadsDrained', { ...validDetails.DownloadsDrained, runId: '2026-11-25' }),
          second,
        ),
      ).rejects.toThrow('Athena said no');
    });

    // Assess
    expect(logs).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'sql file executed',
        service: 'queryRunner',
        function_name: 'fleet-etl-query-runner',
        function_request_id: first.awsRequestId,
        cold_start: true,
        runId,
        file: '10_raw_tables.sql',
      }),
      expect.objectContaining({ message: 'sql file executed', cold_start: false, runId: '2026-11-25' }),
      expect.objectContaining({
        level: 'ERROR',
        message: 'invocation failed',
        function_request_id: second.awsRequestId,
        runId: '2026-11-25',
        error: expect.stringContaining('Athena said no'),
      }),
    ]);
    expect(metricsOf(emf).map((m) => m.name)).toEqual(['StageDuration', 'StageDuration']);
  });

  it("reports one invocation's share of the API client's counters, failures by cause", async () => {
    // Prepare
    const telemetry = lambdaTelemetry('downloader', { POWERTOOLS_METRICS_NAMESPACE: NAMESPACE });
    let current = stats({ pageRequests: 5, retries: 1, transientFailures: { 'HTTP 503': 1 } });
    const source = { stats: () => current };
    const handler = telemetry.instrument(
      async () => {
        current = stats({
          pageRequests: 9,
          retries: 4,
          tokenRequests: 1,
          transientFailures: { 'HTTP 503': 2, 'HTTP 429': 2, 'HTTP 401 (token refreshed)': 1 },
          budgetWaits: 3,
          budgetWaitMs: 1_250,
        });
      },
      { source },
    );

    // Act
    const { emf } = await stdoutOf(() => handler({}, lambdaContext('fleet-etl-downloader', 30)));

    // Assess
    const metrics = metricsOf(emf).filter((m) => m.name !== 'StageDuration');
    expect(metrics).toEqual(
      expect.arrayContaining([
        { name: 'ApiPageRequests', value: 4, dimensions: { service: 'downloader' } },
        { name: 'ApiRetries', value: 3, dimensions: { service: 'downloader' } },
        { name: 'ApiTokenRequests', value: 1, dimensions: { service: 'downloader' } },
        { name: 'BudgetWaits', value: 3, dimensions: { service: 'downloader' } },
        { name: 'BudgetWaitTime', value: 1_250, dimensions: { service: 'downloader' } },
        { name: 'ApiTransientFailures', value: 2, dimensions: { service: 'downloader', Cause: 'http-429' } },
        { name: 'ApiTransientFailures', value: 1, dimensions: { service: 'downloader', Cause: 'http-5xx' } },
        {
          name: 'ApiTransientFailures',
          value: 1,
          dimensions: { service: 'downloader', Cause: 'token-refused' },
        },
      ]),
    );
    expect(metrics).toHaveLength(8);
  });

  it('counts the rows the downloader quarantined per dataset, leaving the batch response as SQS needs it', async () => {
    // Prepare
    class RejectingSource extends FakeSource {
      override async fetchPage<T>(request: PageRequest, sink: PageSink<T>): Promise<FetchedPage<T>> {
        const page = await super.fetchPage(request, sink);
        const rejected = request.dataset === 'sensors' ? [{ index: 0, reason: 'bad', row: '{}' }] : [];
        return { ...page, rejected: [...rejected, ...rejected] };
      }
    }
    const telemetry = lambdaTelemetry('downloader', { POWERTOOLS_METRICS_NAMESPACE: NAMESPACE });
    const handler = createDownloaderHandler({
      source: new RejectingSource({ sensors: [{ a: 1 }], vehicles: [{ b: 1 }] }),
      rawStore: new MemoryObjectStore(),
      publisher: new RecordingPublisher(),
      logger: telemetry.logger,
    }).use(quarantinedRowsMetric(telemetry.metrics));
    const record = (dataset: 'sensors' | 'vehicles', body?: string): SQSRecord =>
      ({
        messageId: `${dataset}-${body ?? 'task'}`,
        body: body ?? JSON.stringify({ runId, dataset, window, page: 1, pageSize: 10, totalPages: 1 }),
        attributes: { ApproximateReceiveCount: '1' },
      }) as SQSRecord;

    // Act
    let response: unknown;
    const { emf } = await stdoutOf(async () => {
      response = await handler(
        { Records: [record('sensors'), record('vehicles'), record('sensors', 'not json')] },
        lambdaContext('fleet-etl-downloader', 30),
      );
    });

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'sensors-not json' }] });
    expect(metricsOf(emf)).toEqual([
      { name: 'RowsQuarantined', value: 2, dimensions: { service: 'downloader', Dataset: 'sensors' } },
      { name: 'RowsQuarantined', value: 0, dimensions: { service: 'downloader', Dataset: 'vehicles' } },
    ]);
  });

  it('refuses to start without the namespace its metrics go to', () => {
    expect(() => lambdaTelemetry('report', {})).toThrow(/POWERTOOLS_METRICS_NAMESPACE/);
  });
});
