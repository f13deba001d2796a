import type { Context } from 'aws-lambda';
import {
  ClaimCheckPublisher,
  DetailType,
  type EventBridgeEnvelope,
  EventValidationError,
  toOutgoingEvent,
} from '../../../events/index.js';
import { lambdaContext } from '../../../local/lambda-context.js';
import { FixedSqlSource } from '../../../services/adapters/local/fixed-sql-source.js';
import { SqliteRunLedger } from '../../../services/adapters/local/sqlite/sqlite-run-ledger.js';
import { openStateDatabase } from '../../../services/adapters/local/sqlite/state-database.js';
import { createCompletionTrackerHandler } from '../../../services/completion-tracker/handler.js';
import type { QueryEngine, StatementResult } from '../../../services/ports/query-engine.js';
import { createQueryRunnerHandler } from '../../../services/query-runner/handler.js';
import { createReportHandler } from '../../../services/report/handler.js';
import { reportKey } from '../../../services/shared/lake-keys.js';
import { envelope, MemoryObjectStore, RecordingPublisher, recordingLogger } from '../../helpers/fakes.js';
import { runId, validDetails } from '../../helpers/samples.js';

/** The handlers as Lambda (and the local runtime) call them: raw JSON in, the Middy chain in between. */
/** A context as Lambda gives one: the tracker reads the remaining time for its claim's lease. */
const context: Context = lambdaContext('handler-under-test', 30);
type Raw = (event: unknown, context: Context) => Promise<unknown>;
const asRaw = (handler: unknown) => handler as Raw;

/** Every statement succeeds with a new execution id; the engine never returns rows. */
const engine: QueryEngine = {
  execute: async (_sql, ctx): Promise<StatementResult> => ({
    queryExecutionId: `q-${ctx.file}-${ctx.statementIndex}`,
    dataScannedBytes: 1,
    durationMs: 1,
  }),
};

/** What the claim check put on the bus for `detail`, with `limit` lowered so that the sample is over it. */
async function sentByReference(
  detailType: 'EtlDone' | 'SqlFileExecuted',
  detail: object,
  store: MemoryObjectStore,
) {
  const bus = new RecordingPublisher();
  const { schemaVersion: _, ...input } = detail as { schemaVersion: 1 };
  await new ClaimCheckPublisher(bus, store, { maxEntryBytes: 100 }).publish([
    toOutgoingEvent(detailType, input as never),
  ]);
  const [sent] = bus.events;
  expect(sent?.detail).toHaveProperty('detailRef');
  return envelope(detailType, sent?.detail);
}

describe('the query runner handler', () => {
  it('publishes its growing events by reference through the results store, and resolves its own', async () => {
    // Prepare: a limit low enough that every SqlFileExecuted is over it.
    const resultsStore = new MemoryObjectStore();
    const publisher = new RecordingPublisher();
    const handler = asRaw(
      createQueryRunnerHandler(
        {
          sqlSource: new FixedSqlSource([
            { name: '10_first.sql', text: 'CREATE TABLE a (x int);' },
            { name: '20_second.sql', text: 'CREATE TABLE b (y int);' },
          ]),
          engine,
          publisher,
          resultsStore,
          database: 'fleet_etl',
          rawLocation: 's3://raw',
          warehouseLocation: 's3://warehouse',
          logger: recordingLogger(),
        },
        { maxEventBytes: 300 },
      ),
    );

    // Act: DownloadsDrained runs the first file; its SqlFileExecuted, sent by reference, runs the second; the
    // second's announces EtlDone.
    await handler(envelope('DownloadsDrained', validDetails.DownloadsDrained), context);
    const first = publisher.ofType(DetailType.SqlFileExecuted)[0];
    await handler(envelope('SqlFileExecuted', first), context);
    await handler(envelope('SqlFileExecuted', publisher.ofType(DetailType.SqlFileExecuted)[1]), context);

    // Assess
    expect(first).toEqual({ schemaVersion: 1, runId, detailRef: expect.any(Object) });
    expect(publisher.ofType(DetailType.SqlFileExecuted)).toHaveLength(2);
    const sent = [...publisher.ofType(DetailType.SqlFileExecuted), ...publisher.ofType(DetailType.EtlDone)];
    for (const detail of sent) {
      const { key } = (detail as { detailRef: { key: string } }).detailRef;
      expect(key).toMatch(
        new RegExp(`^event-details/(SqlFileExecuted|EtlDone)/${runId}/[0-9a-f]{64}\\.json$`),
      );
      expect(resultsStore.objects.has(key)).toBe(true);
    }
    expect(publisher.ofType(DetailType.EtlDone)).toEqual([
      { schemaVersion: 1, runId, detailRef: expect.any(Object) },
    ]);
  });
});

describe('the report handler', () => {
  it('writes the report from an EtlDone sent by reference', async () => {
    // Prepare
    const resultsStore = new MemoryObjectStore();
    const event = await sentByReference('EtlDone', { ...validDetails.EtlDone, results: {} }, resultsStore);
    const handler = asRaw(
      createReportHandler({
        resultsStore,
        ledger: new SqliteRunLedger(openStateDatabase(':memory:')),
        logger: recordingLogger(),
      }),
    );

    // Act
    await handler(event, context);

    // Assess
    const report = JSON.parse(Buffer.from((await resultsStore.get(reportKey(runId))) ?? []).toString('utf8'));
    expect(report.sqlFiles).toEqual(validDetails.EtlDone.files);
  });
});

describe('the completion tracker handler', () => {
  const handlerWith = (eventDetails: MemoryObjectStore) =>
    asRaw(
      createCompletionTrackerHandler({
        ledger: new SqliteRunLedger(openStateDatabase(':memory:')),
        publisher: new RecordingPublisher(),
        datasets: ['vehicles', 'sensors'],
        eventDetails,
        logger: recordingLogger(),
      }),
    );

  it('accepts an EtlDone sent by reference once it resolves', async () => {
    const store = new MemoryObjectStore();
    const event = await sentByReference('EtlDone', validDetails.EtlDone, store);
    await expect(handlerWith(store)(event, context)).resolves.toBeDefined();
  });

  it('refuses one whose stored detail is gone, naming the key', async () => {
    const event: EventBridgeEnvelope = await sentByReference(
      'EtlDone',
      validDetails.EtlDone,
      new MemoryObjectStore(),
    );
    const key = (event.detail as { detailRef: { key: string } }).detailRef.key;
    const handling = handlerWith(new MemoryObjectStore())(event, context);
    await expect(handling).rejects.toBeInstanceOf(EventValidationError);
    await expect(handling).rejects.toThrow(key);
  });
});
