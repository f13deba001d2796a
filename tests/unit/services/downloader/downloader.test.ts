import { createHash } from 'node:crypto';
import { jest } from '@jest/globals';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from '../../../../local/lambda-context.js';
import { type DownloaderDeps, downloadPage } from '../../../../services/downloader/download-page.js';
import { createDownloaderHandler } from '../../../../services/downloader/handler.js';
import type { FetchedPage, PageRequest, PageSink } from '../../../../services/ports/fleet-source.js';
import type { DownloadTask } from '../../../../services/ports/task-queue.js';
import { TerminalError } from '../../../../services/shared/errors.js';
import {
  FakeSource,
  MemoryObjectStore,
  RecordingPublisher,
  recordingLogger,
} from '../../../helpers/fakes.js';
import { runId, window } from '../../../helpers/samples.js';

const task = (page: number, overrides: Partial<DownloadTask> = {}): DownloadTask => ({
  runId,
  dataset: 'sensors',
  window,
  page,
  pageSize: 2,
  totalPages: 2,
  ...overrides,
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const sqsRecord = (body: unknown, messageId = `m-${Math.random()}`, receiveCount = 1): SQSRecord => ({
  messageId,
  receiptHandle: `r-${messageId}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
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

function deps() {
  return {
    source: new FakeSource({ sensors: [{ a: 1 }, { a: 2 }, { a: 3 }] }),
    rawStore: new MemoryObjectStore(),
    publisher: new RecordingPublisher(),
    logger: recordingLogger(),
    maxReceiveCount: 5,
  };
}

/** A source whose page had one row the row schema refused. */
class RejectingSource extends FakeSource {
  override async fetchPage<T>(request: PageRequest, sink: PageSink<T>): Promise<FetchedPage<T>> {
    const page = await super.fetchPage(request, sink);
    return { ...page, rejected: [{ index: 1, reason: 'timestamp: expected number', row: '{"a":"x"}' }] };
  }
}

/** A source that leaves the plan's page count unchecked, which the port asks it to check: the downloader still warns. */
class UncheckedSource extends FakeSource {
  override fetchPage<T>(request: PageRequest, sink: PageSink<T>): Promise<FetchedPage<T>> {
    const { expectedTotalPages: _, ...unchecked } = request;
    return super.fetchPage(unchecked, sink);
  }
}

describe('downloadPage', () => {
  it('stores the page as NDJSON at a key derived from the task and announces it', async () => {
    // Prepare
    const d = deps();

    // Act
    const outcome = await downloadPage(task(2), d);

    // Assess
    expect(outcome).toEqual({
      key: 'sensors/run=2026-11-24/page-00002.ndjson',
      rows: 1,
      bytes: 8,
      sha256: sha256('{"a":3}\n'),
      rejectedRows: 0,
    });
    expect(d.rawStore.text(outcome.key)).toBe('{"a":3}\n');
    expect(d.publisher.ofType('PageDownloaded')).toEqual([
      {
        schemaVersion: 1,
        runId,
        dataset: 'sensors',
        page: 2,
        rows: 1,
        bytes: 8,
        key: outcome.key,
        sha256: sha256('{"a":3}\n'),
      },
    ]);
  });

  it('checksums the page while it is written, without reading it back', async () => {
    const d = deps();
    const read = jest.spyOn(d.rawStore, 'get');

    const outcome = await downloadPage(task(1), d);

    expect(read).not.toHaveBeenCalled();
    expect(outcome.sha256).toBe(sha256('{"a":1}\n{"a":2}\n'));
  });

  it('records no checksum of a store that returned before reading the whole page', async () => {
    const d = deps();
    // A broken store: it takes the first chunk and says it stored the page.
    d.rawStore.put = async (_key, body) => {
      if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
        for await (const _chunk of body) break;
      }
      return { bytes: 1 };
    };

    await expect(downloadPage(task(1), d)).rejects.toThrow();
    expect(d.publisher.ofType('PageDownloaded')).toEqual([]);
  });

  it('writes the same object at the same key when a task is delivered twice', async () => {
    const d = deps();
    await downloadPage(task(1), d);
    await downloadPage(task(1), d);
    expect([...d.rawStore.objects.keys()]).toEqual(['sensors/run=2026-11-24/page-00001.ndjson']);
    expect(d.rawStore.text('sensors/run=2026-11-24/page-00001.ndjson')).toBe('{"a":1}\n{"a":2}\n');
  });

  it('announces a page an earlier attempt stored without asking the API again (resume)', async () => {
    // Prepare: an attempt stored page 1, and its process died before announcing it.
    const d = deps();
    await d.rawStore.put('sensors/run=2026-11-24/page-00001.ndjson', '{"a":1}\n{"a":2}\n');

    // Act
    const outcome = await downloadPage(task(1), d);

    // Assess
    expect(d.source.requests).toEqual([]);
    expect(outcome).toMatchObject({ rows: 2, bytes: 16 });
    expect(d.publisher.ofType('PageDownloaded')).toEqual([
      expect.objectContaining({
        page: 1,
        rows: 2,
        bytes: 16,
        key: 'sensors/run=2026-11-24/page-00001.ndjson',
        // Read from the object found: the ledger learns the checksum of a page stored but never announced.
        sha256: sha256('{"a":1}\n{"a":2}\n'),
      }),
    ]);
  });

  const WHOLE = '{"a":1}\n{"a":2}\n';
  it.each([
    ['emptied', '', { rows: 2 }],
    ['cut inside its last row', '{"a":1}\n{"a":', undefined],
    ['cut at a line end, a row short of what was recorded', '{"a":1}\n', { rows: 2 }],
    ['ending in a line that is not a row', '{"a":1}\n[2]\n', undefined],
    ['edited: one digit changed, as many rows', '{"a":1}\n{"a":7}\n', { rows: 2, sha256: sha256(WHOLE) }],
  ])(
    'fetches a stored page again when it was %s since, instead of announcing it',
    async (_what, stored, recorded) => {
      const d = { ...deps(), recordedPage: async () => recorded } satisfies DownloaderDeps;
      await d.rawStore.put('sensors/run=2026-11-24/page-00001.ndjson', stored);

      const outcome = await downloadPage(task(1), d);

      expect(d.source.requests).toHaveLength(1);
      expect(outcome).toMatchObject({ rows: 2, bytes: 16, sha256: sha256(WHOLE) });
      expect(d.rawStore.text('sensors/run=2026-11-24/page-00001.ndjson')).toBe(WHOLE);
      expect(d.logger.lines).toContainEqual({
        level: 'warn',
        message: 'stored page is not what was stored; fetching it again',
      });
    },
  );

  it('announces a stored page that holds the rows and bytes the ledger recorded, an empty last page included', async () => {
    const d = {
      ...deps(),
      recordedPage: async (t: DownloadTask) =>
        t.page === 1 ? { rows: 2, sha256: sha256(WHOLE) } : { rows: 0, sha256: sha256('') },
    } satisfies DownloaderDeps;
    await d.rawStore.put('sensors/run=2026-11-24/page-00001.ndjson', WHOLE);
    await d.rawStore.put('sensors/run=2026-11-24/page-00002.ndjson', '');

    await downloadPage(task(1), d);
    await downloadPage(task(2), d);

    expect(d.source.requests).toEqual([]);
  });

  it('keeps rows the schema rejected beside the raw lake, outside the dataset folders', async () => {
    const d = { ...deps(), source: new RejectingSource({ sensors: [{ a: 1 }, { a: 3 }] }) };

    const outcome = await downloadPage(task(1, { totalPages: 1 }), d);

    expect(outcome).toMatchObject({ rows: 2, rejectedRows: 1 });
    const rejected = d.rawStore.text('rejected/sensors/run=2026-11-24/page-00001.ndjson');
    expect(rejected && JSON.parse(rejected)).toEqual({
      index: 1,
      reason: 'timestamp: expected number',
      row: '{"a":"x"}',
    });
    expect(d.logger.lines).toContainEqual({ level: 'warn', message: 'rows rejected by the row schema' });
  });

  it('warns when total_pages changed since planning', async () => {
    const d = deps();
    d.source = new UncheckedSource({ sensors: [{ a: 1 }, { a: 2 }, { a: 3 }] });
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

  it('announces EtlFailed with the reason when a page fails on its last receive, and only then', async () => {
    // Prepare
    const d = deps();
    d.source.fetchPage = async () => {
      throw new TerminalError('fleet API failed sensors page 2: HTTP 400 invalid_request');
    };
    const handler = createDownloaderHandler(d);

    // Act
    const early = await handler({ Records: [sqsRecord(task(2), 'a', 4)] }, lambdaContext('downloader', 30));
    const last = await handler({ Records: [sqsRecord(task(2), 'b', 5)] }, lambdaContext('downloader', 30));

    // Assess
    expect(early).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }] });
    expect(last).toEqual({ batchItemFailures: [{ itemIdentifier: 'b' }] });
    expect(d.publisher.ofType('EtlFailed')).toEqual([
      {
        schemaVersion: 1,
        runId,
        stage: 'downloader',
        dataset: 'sensors',
        page: 2,
        reason: 'sensors page 2: fleet API failed sensors page 2: HTTP 400 invalid_request',
      },
    ]);
  });

  it('fails the message whose page could not be published, so it is retried', async () => {
    const d = deps();
    d.publisher.failNext = 1;
    const handler = createDownloaderHandler(d);
    const response = await handler({ Records: [sqsRecord(task(1), 'one')] }, lambdaContext('downloader', 30));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'one' }] });
  });
});
