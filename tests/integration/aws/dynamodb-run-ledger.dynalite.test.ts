import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { DynamoDbRunLedger } from '../../../services/adapters/aws/dynamodb-run-ledger.js';
import { runId, window } from '../../helpers/samples.js';

/**
 * The DynamoDB ledger against dynalite, a DynamoDB implementation speaking the real wire protocol on loopback:
 * conditional puts and updates, deletes and consistent queries run as DynamoDB runs them, not as a mock says.
 * dynalite does not implement TransactWriteItems (it answers UnknownOperationException), so recordPage and
 * recordPageFailure are covered by tests/unit/aws/dynamodb-run-ledger.test.ts, which checks their exact
 * transactions and conditional expressions.
 */
describe('DynamoDbRunLedger on dynalite', () => {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  let client: DynamoDBClient;
  let table = 0;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  afterAll(async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function freshLedger(): Promise<DynamoDbRunLedger> {
    table += 1;
    const tableName = `ledger-${table}`;
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    return new DynamoDbRunLedger(client, { tableName });
  }

  it('records a plan once, refuses a contradicting one, and reads it back', async () => {
    const ledger = await freshLedger();
    await ledger.recordPlan(runId, 'sensors', { totalPages: 2, window });
    await Promise.all([1, 2, 3].map(() => ledger.recordPlan(runId, 'sensors', { totalPages: 2, window })));
    await ledger.recordPlan(runId, 'vehicles', { totalPages: 0, window });
    expect(await ledger.progress(runId)).toEqual({
      window,
      datasets: {
        sensors: { totalPages: 2, storedPages: 0, rows: 0 },
        vehicles: { totalPages: 0, storedPages: 0, rows: 0 },
      },
      failures: [],
      drained: false,
      finished: false,
    });
    await expect(ledger.recordPlan(runId, 'sensors', { totalPages: 3, window })).rejects.toThrow(/conflicts/);
  }, 30_000);

  it('keeps a plan’s page size and refuses another one for the same night', async () => {
    const ledger = await freshLedger();
    await ledger.recordPlan(runId, 'sensors', { totalPages: 2, window, pageSize: 100 });
    await ledger.recordPlan(runId, 'sensors', { totalPages: 2, window, pageSize: 100 });
    expect((await ledger.progress(runId)).datasets.sensors).toEqual({
      totalPages: 2,
      pageSize: 100,
      storedPages: 0,
      rows: 0,
    });
    // dynalite returns no item with the failed condition (no ReturnValuesOnConditionCheckFailure), so the recorded
    // plan is not named here as DynamoDB names it; the cloud twin's front fills that in (tests/cloud/front).
    await expect(
      ledger.recordPlan(runId, 'sensors', { totalPages: 2, window, pageSize: 50 }),
    ).rejects.toThrow(/run 2026-11-24 sensors: a plan of 2 pages of 50 rows conflicts with the recorded/);
    // A plan recorded without one (an older planner) learns it.
    await ledger.recordPlan(runId, 'vehicles', { totalPages: 1, window });
    await ledger.recordPlan(runId, 'vehicles', { totalPages: 1, window, pageSize: 7 });
    expect((await ledger.progress(runId)).datasets.vehicles?.pageSize).toBe(7);
  }, 30_000);

  it('grants the drained claim to exactly one of many concurrent callers, until released', async () => {
    const ledger = await freshLedger();
    const claims = await Promise.all(Array.from({ length: 10 }, () => ledger.claimDrained(runId)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect((await ledger.progress(runId)).drained).toBe(true);
    await ledger.releaseClaim(runId);
    expect(await ledger.claimDrained(runId)).toBe(true);
  }, 30_000);

  it('marks the run finished and forgets it on reset', async () => {
    const ledger = await freshLedger();
    await ledger.recordPlan(runId, 'vehicles', { totalPages: 1, window });
    await ledger.claimDrained(runId);
    await ledger.markFinished(runId);
    expect((await ledger.progress(runId)).finished).toBe(true);
    await ledger.reset(runId);
    expect(await ledger.progress(runId)).toEqual({
      window: undefined,
      datasets: {},
      failures: [],
      drained: false,
      finished: false,
    });
  }, 30_000);
});
