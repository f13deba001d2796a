import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from '../../../infra/local/lambda-context.js';
import { downloadPage } from '../../../services/downloader/download-page.js';
import { createDownloaderHandler } from '../../../services/downloader/handler.js';
import type { DownloadTask } from '../../../services/ports/task-queue.js';
import { FakeSource, MemoryObjectStore, RecordingPublisher, recordingLogger } from '../../helpers/fakes.js';
import { runId, window } from '../../helpers/samples.js';

const task = (page: number, overrides: Partial<DownloadTask> = {}): DownloadTask => ({
  runId,
  dataset: 'sensors',
  window,
  page,
  pageSize: 2,
  totalPages: 2,
  ...overrides,
});

const sqsRecord = (body: unknown, messageId = `m-${Math.random()}`): SQSRecord => ({
  messageId,
  receiptHandle: `r-${messageId}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: {
    ApproximateReceiveCount: '1',
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

function deps() {
  return {
    source: new FakeSource({ sensors: [{ a: 1 }, { a: 2 }, { a: 3 }] }),
    rawStore: new MemoryObjectStore(),
    publisher: new RecordingPublisher(),
    logger: recordingLogger(),
  };
}

describe('downloadPage', () => {
  it('stores the page as NDJSON at a key derived from the task and announces it', async () => {
    // Prepare
    const d = deps();

    // Act
    const outcome = await downloadPage(task(2), d);

    // Assess
    expect(outcome).toEqual({ key: 'sensors/run=2026-11-24/page-00002.ndjson', rows: 1, bytes: 8 });
    expect(d.rawStore.text(outcome.key)).toBe('{"a":3}\n');
    expect(d.publisher.ofType('PageDownloaded')).toEqual([
      { schemaVersion: 1, runId, dataset: 'sensors', page: 2, rows: 1, bytes: 8, key: outcome.key },
    ]);
  });

  it('writes the same object at the same key when a task is delivered twice', async () => {
    const d = deps();
    await downloadPage(task(1), d);
    await downloadPage(task(1), d);
    expect([...d.rawStore.objects.keys()]).toEqual(['sensors/run=2026-11-24/page-00001.ndjson']);
    expect(d.rawStore.text('sensors/run=2026-11-24/page-00001.ndjson')).toBe('{"a":1}\n{"a":2}\n');
  });

  it('warns when total_pages changed since planning', async () => {
    const d = deps();
    await downloadPage(task(1, { totalPages: 7 }), d);
    expect(d.logger.lines).toContainEqual({ level: 'warn', message: 'total_pages changed since planning' });
  });
});

describe('downloader handler (SQS batch with partial failures)', () => {
  it('reports only the failed messages, naming nothing else', async () => {
    // Prepare
    const d = deps();
    const handler = createDownloaderHandler(d);
    const event: SQSEvent = {
      Records: [
        sqsRecord(task(1), 'good'),
        sqsRecord('{not json', 'garbled'),
        sqsRecord({ ...task(2), runId: '../../escape' }, 'hostile'),
      ],
    };

    // Act
    const response = await handler(event, lambdaContext('downloader', 30));

    // Assess
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'garbled' }, { itemIdentifier: 'hostile' }],
    });
    expect([...d.rawStore.objects.keys()]).toEqual(['sensors/run=2026-11-24/page-00001.ndjson']);
    expect(d.logger.lines.filter((l) => l.level === 'error')).toHaveLength(2);
  });

  it('fails the message whose page could not be published, so it is retried', async () => {
    const d = deps();
    d.publisher.failNext = 1;
    const handler = createDownloaderHandler(d);
    const response = await handler({ Records: [sqsRecord(task(1), 'one')] }, lambdaContext('downloader', 30));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'one' }] });
  });
});
