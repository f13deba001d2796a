import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { parseFleetEvent } from '../../../../events/index.js';
import { lambdaContext } from '../../../../local/lambda-context.js';
import { SqliteRunLedger } from '../../../../services/adapters/local/sqlite/sqlite-run-ledger.js';
import { openStateDatabase } from '../../../../services/adapters/local/sqlite/state-database.js';
import {
  completionDetailTypes,
  createCompletionTrackerHandler,
} from '../../../../services/completion-tracker/handler.js';
import { createDownloaderHandler } from '../../../../services/downloader/handler.js';
import { rejectedRowsKey } from '../../../../services/downloader/rejected-rows.js';
import { createPlannerHandler } from '../../../../services/planner/handler.js';
import type { FetchedPage, PageRequest, PageSink } from '../../../../services/ports/fleet-source.js';
import type { DownloadTask } from '../../../../services/ports/task-queue.js';
import { TerminalError } from '../../../../services/shared/errors.js';
import { rawPageKey } from '../../../../services/shared/lake-keys.js';
import {
  currentLogFields,
  withLogFields,
  withoutLogFields,
} from '../../../../services/shared/log-context.js';
import { jsonLogger, type Logger } from '../../../../services/shared/logger.js';
import {
  envelope,
  FakeSource,
  fixedClock,
  MemoryObjectStore,
  RecordingPublisher,
  RecordingQueue,
} from '../../../helpers/fakes.js';
import { runId, validDetails, window } from '../../../helpers/samples.js';

/**
 * Every line a handler invocation writes carries the run it is about (and the dataset and page where it is about
 * one), whoever writes it: the core, the middleware, or the API client sharing the entry's logger. Lines are read
 * as the local runtime writes them to logs/services.ndjson (jsonLogger); the Lambda logger adds the same fields
 * from the same place (tests/unit/services/adapters/aws/lambda/telemetry.test.ts).
 */

const LineSchema = z.looseObject({
  level: z.string(),
  service: z.string(),
  message: z.string(),
  time: z.string(),
  runId: z.string().optional(),
  dataset: z.string().optional(),
  page: z.number().optional(),
});
type Line = z.infer<typeof LineSchema>;

function capturingLogger(service: string): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  return { lines, ...jsonLogger(service, (text) => lines.push(LineSchema.parse(JSON.parse(text)))) };
}

const sqsRecord = (task: DownloadTask | string, receiveCount = 1): SQSRecord => ({
  messageId: `m-${typeof task === 'string' ? 'bad' : task.page}`,
  receiptHandle: 'r',
  body: typeof task === 'string' ? task : JSON.stringify(task),
  attributes: {
    ApproximateReceiveCount: String(receiveCount),
    SentTimestamp: '0',
    SenderId: 'test',
    ApproximateFirstReceiveTimestamp: '0',
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:tasks',
  awsRegion: 'eu-west-1',
});

/** Page 1 has a row the schema refused, page 3 is refused by the API; the client logs as FleetApiSource does. */
class NightSource extends FakeSource {
  constructor(private readonly logger: Logger) {
    super({ sensors: Array.from({ length: 6 }, (_, i) => ({ id: i })) });
  }

  override async countPages(request: PageRequest): Promise<number> {
    this.logger.warn('retrying a fleet API request', { what: `${request.dataset} page ${request.page}` });
    return super.countPages(request);
  }

  override async fetchPage<T>(request: PageRequest, sink: PageSink<T>): Promise<FetchedPage<T>> {
    // FleetApiSource's own lines name the request, not the run: the run comes from the work they belong to.
    this.logger.warn('retrying a fleet API request', { what: `${request.dataset} page ${request.page}` });
    await new Promise((resolve) => setTimeout(resolve, 4 - request.page)); // interleave the batch's records
    if (request.page === 3) throw new TerminalError('fleet API failed sensors page 3: HTTP 400');
    const page = await super.fetchPage(request, sink);
    if (request.page !== 1) return page;
    return { ...page, rejected: [{ index: 0, reason: 'id: expected number', row: '{"id":"x"}' }] };
  }
}

describe('log lines of a handler invocation', () => {
  it('downloader: each line names the run, dataset and page of its own record, also while records interleave', async () => {
    // Prepare
    const logger = capturingLogger('downloader');
    const rawStore = new MemoryObjectStore();
    const task = (page: number): DownloadTask => ({
      runId,
      dataset: 'sensors',
      window,
      page,
      pageSize: 2,
      totalPages: 3,
    });
    await rawStore.put(rawPageKey('sensors', runId, 2), '{"id":2}\n{"id":3}\n');
    const handler = createDownloaderHandler({
      source: new NightSource(logger),
      rawStore,
      publisher: new RecordingPublisher(),
      logger,
      maxReceiveCount: 5,
    });

    // Act
    await handler(
      { Records: [sqsRecord(task(1)), sqsRecord(task(2)), sqsRecord(task(3), 5), sqsRecord('not json')] },
      lambdaContext('downloader', 30),
    );

    // Assess
    const { lines } = logger;
    expect(lines.map((l) => l.message)).toEqual(
      expect.arrayContaining([
        'retrying a fleet API request',
        'rows rejected by the row schema',
        'page already stored; announcing it again',
        'page failed',
      ]),
    );
    const aboutTasks = lines.filter((l) => l.messageId !== 'm-bad');
    for (const line of aboutTasks) {
      expect(line).toMatchObject({ runId, dataset: 'sensors', page: expect.any(Number) });
      // A line that names a page by its request or its key names the same page as its fields.
      const named =
        /page (\d+)$/.exec(String(line.what ?? ''))?.[1] ?? /page-0*(\d+)/.exec(String(line.key ?? ''))?.[1];
      if (named !== undefined)
        expect({ message: line.message, page: line.page }).toEqual({
          message: line.message,
          page: Number(named),
        });
    }
    expect(lines.find((l) => l.message === 'rows rejected by the row schema')?.key).toBe(
      rejectedRowsKey('sensors', runId, 1),
    );
    // The message that is no task has no run to name; its line says which message it was.
    expect(lines.filter((l) => l.messageId === 'm-bad')).toEqual([
      expect.not.objectContaining({ runId: expect.anything() }),
    ]);
  });

  it('planner: every line names the run derived from the scheduled time, and the dataset', async () => {
    // Prepare
    const logger = capturingLogger('planner');
    const handler = createPlannerHandler({
      source: new NightSource(logger),
      queue: new RecordingQueue(),
      publisher: new RecordingPublisher(),
      clock: fixedClock,
      pageSize: 2,
      logger,
      recordedPageSize: async () => 3,
    });

    // Act
    await handler({ dataset: 'sensors', time: '2026-11-25T01:00:00.000Z' }, lambdaContext('planner', 30));

    // Assess
    expect(logger.lines.map((l) => l.message)).toEqual([
      'keeping the page size of the plan this run recorded',
      'retrying a fleet API request',
      'pages planned',
    ]);
    for (const line of logger.lines) expect(line).toMatchObject({ runId: '2026-11-24', dataset: 'sensors' });
  });

  it('completion tracker: every line names the run of its event, and the page of a PageDownloaded', async () => {
    // Prepare
    const logger = capturingLogger('completionTracker');
    const handler = createCompletionTrackerHandler({
      ledger: new SqliteRunLedger(openStateDatabase(':memory:')),
      publisher: new RecordingPublisher(),
      datasets: ['sensors'],
      eventDetails: new MemoryObjectStore(),
      logger,
    });
    const context = lambdaContext('completionTracker', 30);

    // Act
    const event = (detailType: string, detail: Record<string, unknown>) =>
      parseFleetEvent(envelope(detailType, detail), completionDetailTypes);
    await handler(event('PagesPlanned', { ...validDetails.PagesPlanned, totalPages: 1 }), context);
    await handler(event('PageDownloaded', { ...validDetails.PageDownloaded, page: 1 }), context);

    // Assess
    expect(logger.lines.map((l) => l.message)).toEqual(['downloads drained']);
    expect(logger.lines[0]).toMatchObject({ runId, dataset: 'sensors', page: 1 });
  });
});

describe('the log fields of a piece of work', () => {
  it('add to those of the work around it, and a new invocation starts with none', async () => {
    const seen = await withLogFields({ runId, dataset: 'sensors', page: 1 }, async () => {
      await Promise.resolve();
      return {
        inner: withLogFields({ page: 2 }, () => currentLogFields()),
        // The local runtime delivers an event from inside the work that published it.
        delivered: await withoutLogFields(async () => currentLogFields()),
        after: currentLogFields(),
      };
    });
    expect(seen).toEqual({
      inner: { runId, dataset: 'sensors', page: 2 },
      delivered: {},
      after: { runId, dataset: 'sensors', page: 1 },
    });
  });
});
