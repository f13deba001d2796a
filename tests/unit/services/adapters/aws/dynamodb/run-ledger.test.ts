import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbRunLedger } from '../../../../../../services/adapters/aws/dynamodb/run-ledger.js';
import { TerminalError, TransientError } from '../../../../../../services/shared/errors.js';
import { clientConfig, manualClock, window } from '../factories.js';

const client = new DynamoDBClient(clientConfig);
const dynamo = mockClient(client);
const TABLE = 'fleet-etl-run-ledger';
const RUN = '2026-11-24';

const ledger = () => new DynamoDbRunLedger(client, { tableName: TABLE, clock: manualClock() });

function cancelled(...codes: string[]) {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

beforeEach(() => {
  dynamo.reset();
});

describe('DynamoDbRunLedger', () => {
  describe('recordPlan', () => {
    it('sets the total unless a different total is recorded, keeping the first window', async () => {
      dynamo.on(UpdateItemCommand).resolves({});

      await ledger().recordPlan(RUN, 'sensors', { totalPages: 7, window });

      expect(dynamo.commandCalls(UpdateItemCommand).map((call) => call.args[0].input)).toEqual([
        {
          TableName: TABLE,
          Key: { pk: { S: RUN }, sk: { S: 'PLAN#sensors' } },
          UpdateExpression:
            'SET totalPages = :totalPages, windowFrom = if_not_exists(windowFrom, :from), ' +
            'windowTo = if_not_exists(windowTo, :to), windowTimeZone = if_not_exists(windowTimeZone, :timeZone)',
          ConditionExpression: 'attribute_not_exists(pk) OR totalPages = :totalPages',
          ExpressionAttributeValues: {
            ':totalPages': { N: '7' },
            ':from': { S: window.from },
            ':to': { S: window.to },
            ':timeZone': { S: 'UTC' },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      ]);
    });

    it('refuses a different total for the same run and dataset, naming both', async () => {
      dynamo.on(UpdateItemCommand).rejects(
        new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: { httpStatusCode: 400 },
          Item: {
            pk: { S: RUN },
            sk: { S: 'PLAN#sensors' },
            totalPages: { N: '5' },
            windowFrom: { S: window.from },
            windowTo: { S: window.to },
            windowTimeZone: { S: 'UTC' },
          },
        }),
      );

      const recording = ledger().recordPlan(RUN, 'sensors', { totalPages: 7, window });

      await expect(recording).rejects.toThrow(TerminalError);
      await expect(recording).rejects.toThrow(
        `run ${RUN} sensors: a plan of 7 pages conflicts with the recorded 5 pages`,
      );
    });
  });

  describe('recordPlan with the plan’s page size', () => {
    it('records the page size once and makes a different one fail the same condition', async () => {
      dynamo.on(UpdateItemCommand).resolves({});

      await ledger().recordPlan(RUN, 'sensors', { totalPages: 7, window, pageSize: 100 });

      expect(dynamo.commandCalls(UpdateItemCommand).map((call) => call.args[0].input)).toEqual([
        expect.objectContaining({
          UpdateExpression:
            'SET totalPages = :totalPages, windowFrom = if_not_exists(windowFrom, :from), ' +
            'windowTo = if_not_exists(windowTo, :to), windowTimeZone = if_not_exists(windowTimeZone, :timeZone), ' +
            'pageSize = if_not_exists(pageSize, :pageSize)',
          ConditionExpression:
            '(attribute_not_exists(pk) OR totalPages = :totalPages) AND ' +
            '(attribute_not_exists(pageSize) OR pageSize = :pageSize)',
          ExpressionAttributeValues: expect.objectContaining({
            ':totalPages': { N: '7' },
            ':pageSize': { N: '100' },
          }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ]);
    });

    it('names both plans, page sizes included, when they differ', async () => {
      dynamo.on(UpdateItemCommand).rejects(
        new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: { httpStatusCode: 400 },
          Item: {
            pk: { S: RUN },
            sk: { S: 'PLAN#sensors' },
            totalPages: { N: '7' },
            pageSize: { N: '100' },
            windowFrom: { S: window.from },
            windowTo: { S: window.to },
            windowTimeZone: { S: 'UTC' },
          },
        }),
      );

      await expect(
        ledger().recordPlan(RUN, 'sensors', { totalPages: 7, window, pageSize: 50 }),
      ).rejects.toThrow(
        `run ${RUN} sensors: a plan of 7 pages of 50 rows conflicts with the recorded 7 pages of 100 rows`,
      );
    });
  });

  describe('recordPage', () => {
    it('puts the page item only if new and counts it in the same transaction', async () => {
      dynamo.on(TransactWriteItemsCommand).resolves({});

      expect(await ledger().recordPage(RUN, 'sensors', 12, 50_000)).toBe(true);

      expect(dynamo.commandCalls(TransactWriteItemsCommand).map((call) => call.args[0].input)).toEqual([
        {
          TransactItems: [
            {
              Put: {
                TableName: TABLE,
                Item: {
                  pk: { S: RUN },
                  sk: { S: 'PAGE#sensors#0000012' },
                  rows: { N: '50000' },
                  recordedAt: { S: '2026-11-25T01:00:00.000Z' },
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: TABLE,
                Key: { pk: { S: RUN }, sk: { S: 'DATASET#sensors' } },
                UpdateExpression: 'ADD storedPages :one, #rows :rows',
                ExpressionAttributeNames: { '#rows': 'rows' },
                ExpressionAttributeValues: { ':one': { N: '1' }, ':rows': { N: '50000' } },
              },
            },
            { Delete: { TableName: TABLE, Key: { pk: { S: RUN }, sk: { S: 'FAILED#sensors#0000012' } } } },
          ],
        },
      ]);
    });

    it('answers false for a page already recorded', async () => {
      dynamo.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));

      expect(await ledger().recordPage(RUN, 'sensors', 12, 50_000)).toBe(false);
    });

    it('treats a conflict with a concurrent transaction as transient', async () => {
      dynamo.on(TransactWriteItemsCommand).rejects(cancelled('None', 'TransactionConflict'));

      const recording = ledger().recordPage(RUN, 'sensors', 12, 50_000);

      await expect(recording).rejects.toThrow(TransientError);
      await expect(recording).rejects.toThrow(/transaction cancelled \(None, TransactionConflict\)/);
    });

    it('treats a validation failure as terminal', async () => {
      dynamo.on(TransactWriteItemsCommand).rejects(cancelled('ValidationError', 'None'));

      await expect(ledger().recordPage(RUN, 'sensors', 12, 50_000)).rejects.toThrow(TerminalError);
    });
  });

  describe('progress', () => {
    it('reads plans and counters, strongly consistent, following pages, and leaves page items alone', async () => {
      dynamo.on(QueryCommand).resolves({});
      dynamo
        .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: RUN }, ':prefix': { S: 'PLAN#' } } })
        .resolvesOnce({
          Items: [
            {
              pk: { S: RUN },
              sk: { S: 'PLAN#sensors' },
              totalPages: { N: '3' },
              windowFrom: { S: window.from },
              windowTo: { S: window.to },
              windowTimeZone: { S: 'UTC' },
            },
          ],
          LastEvaluatedKey: { pk: { S: RUN }, sk: { S: 'PLAN#sensors' } },
        })
        .resolvesOnce({
          Items: [
            {
              pk: { S: RUN },
              sk: { S: 'PLAN#vehicles' },
              totalPages: { N: '1' },
              windowFrom: { S: window.from },
              windowTo: { S: window.to },
              windowTimeZone: { S: 'UTC' },
            },
          ],
        });
      dynamo
        .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: RUN }, ':prefix': { S: 'DATASET#' } } })
        .resolves({
          Items: [
            { pk: { S: RUN }, sk: { S: 'DATASET#sensors' }, storedPages: { N: '2' }, rows: { N: '100000' } },
          ],
        });

      const progress = await ledger().progress(RUN);

      expect(progress).toEqual({
        window,
        datasets: {
          sensors: { totalPages: 3, storedPages: 2, rows: 100_000 },
          vehicles: { totalPages: 1, storedPages: 0, rows: 0 },
        },
        failures: [],
        drained: false,
        finished: false,
      });
      const queries = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
      expect(queries).toContainEqual({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: RUN }, ':prefix': { S: 'PLAN#' } },
        ConsistentRead: true,
      });
      expect(queries).toContainEqual({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: RUN }, ':prefix': { S: 'PLAN#' } },
        ConsistentRead: true,
        ExclusiveStartKey: { pk: { S: RUN }, sk: { S: 'PLAN#sensors' } },
      });
      expect(queries).toContainEqual({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: RUN }, ':prefix': { S: 'DATASET#' } },
        ConsistentRead: true,
      });
      // PLAN# (two pages), DATASET#, FAILED#, DRAINED and FINISHED: never the PAGE# items.
      expect(queries).toHaveLength(6);
      expect(queries.map((q) => q.ExpressionAttributeValues?.[':prefix']?.S)).not.toContain('PAGE#');
    });

    it('reports pages stored before their plan with an unknown total', async () => {
      dynamo.on(QueryCommand).resolves({});
      dynamo
        .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: RUN }, ':prefix': { S: 'PLAN#' } } })
        .resolves({});
      dynamo
        .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: RUN }, ':prefix': { S: 'DATASET#' } } })
        .resolves({
          Items: [
            { pk: { S: RUN }, sk: { S: 'DATASET#vehicles' }, storedPages: { N: '1' }, rows: { N: '10' } },
          ],
        });

      expect(await ledger().progress(RUN)).toEqual({
        window: undefined,
        datasets: { vehicles: { totalPages: undefined, storedPages: 1, rows: 10 } },
        failures: [],
        drained: false,
        finished: false,
      });
    });

    it('reports pages that gave up, the drained claim and the end of the run', async () => {
      dynamo.on(QueryCommand).resolves({});
      const items = (prefix: string, list: Record<string, { S: string }>[]) =>
        dynamo
          .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: RUN }, ':prefix': { S: prefix } } })
          .resolves({ Items: list.map((item) => ({ pk: { S: RUN }, ...item })) });
      items('FAILED#', [{ sk: { S: 'FAILED#sensors#0000003' }, reason: { S: '503 five times' } }]);
      items('DRAINED', [{ sk: { S: 'DRAINED' } }]);
      items('FINISHED', []);

      expect(await ledger().progress(RUN)).toMatchObject({
        failures: [{ dataset: 'sensors', page: 3, reason: '503 five times' }],
        drained: true,
        finished: false,
      });
    });

    it('refuses an item it cannot read', async () => {
      dynamo
        .on(QueryCommand)
        .resolves({ Items: [{ pk: { S: RUN }, sk: { S: 'DATASET#sensors' }, rows: { S: 'many' } }] });

      await expect(ledger().progress(RUN)).rejects.toThrow(/unreadable ledger item/);
    });
  });

  describe('claimDrained', () => {
    const claimant = { id: 'event-1', leaseExpiresAt: new Date('2026-11-25T01:00:40.000Z') };
    const lapsed = {
      pk: { S: RUN },
      sk: { S: 'DRAINED' },
      claimant: { S: 'event-0' },
      claimedAt: { S: '2026-11-25T00:59:00.000Z' },
      leaseExpiresAt: { N: String(Date.parse('2026-11-25T00:59:40.000Z')) },
    };
    const conditionFailed = (Item?: Record<string, AttributeValue>) =>
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        ...(Item === undefined ? {} : { Item }),
      });

    it('creates DRAINED with a lease, or replaces one whose lease expired, in one conditional put', async () => {
      dynamo.on(PutItemCommand).resolves({});

      expect(await ledger().claimDrained(RUN, claimant)).toEqual({ outcome: 'won' });

      expect(dynamo.commandCalls(PutItemCommand).map((call) => call.args[0].input)).toEqual([
        {
          TableName: TABLE,
          Item: {
            pk: { S: RUN },
            sk: { S: 'DRAINED' },
            claimant: { S: 'event-1' },
            claimedAt: { S: '2026-11-25T01:00:00.000Z' },
            leaseExpiresAt: { N: String(claimant.leaseExpiresAt.getTime()) },
          },
          ConditionExpression: 'attribute_not_exists(pk) OR leaseExpiresAt < :now',
          ExpressionAttributeValues: { ':now': { N: String(Date.parse('2026-11-25T01:00:00.000Z')) } },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      ]);
    });

    it('says whose lapsed claim it took over', async () => {
      dynamo.on(PutItemCommand).resolves({ Attributes: lapsed });

      expect(await ledger().claimDrained(RUN, claimant)).toEqual({
        outcome: 'won',
        tookOverFrom: { claimant: 'event-0', leaseExpiredAt: new Date('2026-11-25T00:59:40.000Z') },
      });
    });

    it('answers held, with the claimant and its expiry, when a live lease failed the condition', async () => {
      const live = { ...lapsed, leaseExpiresAt: { N: String(Date.parse('2026-11-25T01:00:30.000Z')) } };
      dynamo.on(PutItemCommand).rejects(conditionFailed(live));

      expect(await ledger().claimDrained(RUN, claimant)).toEqual({
        outcome: 'held',
        claimant: 'event-0',
        leaseExpiresAt: new Date('2026-11-25T01:00:30.000Z'),
      });
      // The failed put brought the item back: nothing else was read.
      expect(dynamo.commandCalls(QueryCommand)).toHaveLength(0);
    });

    it('answers announced for a confirmed claim, and for one written before claims had leases', async () => {
      const confirmed = { pk: { S: RUN }, sk: { S: 'DRAINED' }, claimant: { S: 'event-0' } };
      const older = { pk: { S: RUN }, sk: { S: 'DRAINED' }, claimedAt: { S: '2026-11-24T01:00:00.000Z' } };
      dynamo.on(PutItemCommand).rejectsOnce(conditionFailed(confirmed)).rejectsOnce(conditionFailed(older));

      expect(await ledger().claimDrained(RUN, claimant)).toEqual({ outcome: 'announced' });
      expect(await ledger().claimDrained(RUN, claimant)).toEqual({ outcome: 'announced' });
    });

    it('reads the claim when the failed put does not return it, and asks again if it vanished or lapsed', async () => {
      const live = { ...lapsed, leaseExpiresAt: { N: String(Date.parse('2026-11-25T01:00:30.000Z')) } };
      dynamo.on(PutItemCommand).rejectsOnce(conditionFailed()).rejectsOnce(conditionFailed()).resolves({});
      dynamo
        .on(QueryCommand)
        .resolvesOnce({ Items: [live] })
        .resolves({ Items: [] });

      expect(await ledger().claimDrained(RUN, claimant)).toMatchObject({
        outcome: 'held',
        claimant: 'event-0',
      });
      // Gone (released) by the time it is read: the put is tried again, and wins.
      expect(await ledger().claimDrained(RUN, claimant)).toEqual({ outcome: 'won' });
      expect(dynamo.commandCalls(PutItemCommand)).toHaveLength(3);
    });

    it('gives up, as transient, when the claim changes hands on every try', async () => {
      dynamo.on(PutItemCommand).rejects(conditionFailed(lapsed));

      await expect(ledger().claimDrained(RUN, claimant)).rejects.toThrow(/changed hands 3 times/);
    });

    it('classifies throttling as transient', async () => {
      dynamo.on(PutItemCommand).rejects(
        new ProvisionedThroughputExceededException({
          message: 'slow down',
          $metadata: { httpStatusCode: 400 },
        }),
      );

      await expect(ledger().claimDrained(RUN, claimant)).rejects.toThrow(TransientError);
    });
  });

  describe('confirmDrained', () => {
    it('removes the lease of an existing claim, and leaves a released one released', async () => {
      dynamo
        .on(UpdateItemCommand)
        .resolvesOnce({})
        .rejectsOnce(
          new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
        );

      await ledger().confirmDrained(RUN);
      await ledger().confirmDrained(RUN);

      expect(dynamo.commandCalls(UpdateItemCommand)[0]?.args[0].input).toEqual({
        TableName: TABLE,
        Key: { pk: { S: RUN }, sk: { S: 'DRAINED' } },
        UpdateExpression: 'SET confirmedAt = :now REMOVE leaseExpiresAt',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':now': { S: '2026-11-25T01:00:00.000Z' } },
      });
    });
  });

  describe('reset', () => {
    it('deletes every item of the run, 25 keys per batch, re-sending unprocessed ones', async () => {
      // Prepare: 30 items in the run's collection; the first batch leaves one key unprocessed.
      const items = Array.from({ length: 30 }, (_, i) => ({
        pk: { S: RUN },
        sk: { S: `PAGE#sensors#${i}` },
      }));
      dynamo.on(QueryCommand).resolves({ Items: items });
      const leftOver = { DeleteRequest: { Key: { pk: { S: RUN }, sk: { S: 'PAGE#sensors#0' } } } };
      dynamo
        .on(BatchWriteItemCommand)
        .resolvesOnce({ UnprocessedItems: { [TABLE]: [leftOver] } })
        .resolves({ UnprocessedItems: {} });

      // Act
      await ledger().reset(RUN);

      // Assess
      const query = dynamo.commandCalls(QueryCommand)[0]?.args[0].input;
      expect(query).toMatchObject({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ConsistentRead: true,
      });
      const batches = dynamo
        .commandCalls(BatchWriteItemCommand)
        .map((c) => c.args[0].input.RequestItems?.[TABLE] ?? []);
      expect(batches.map((b) => b.length)).toEqual([25, 1, 5]);
      expect(batches[1]).toEqual([leftOver]);
      const deleted = new Set(batches.flat().map((r) => r.DeleteRequest?.Key?.sk?.S));
      expect(deleted.size).toBe(30);
    });
  });
});
