import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { DynamoDbRunLedger } from '../../../services/adapters/aws/dynamodb/run-ledger.js';
import { createLedgerTable } from '../../contracts/emulators/dynalite.js';
import { playTransactionsOneByOne } from '../../helpers/dynalite-transactions.js';
import { runId, window } from '../../helpers/samples.js';
import { manualClock } from '../../unit/services/adapters/aws/factories.js';

/**
 * The DynamoDB ledger against dynalite, a DynamoDB implementation speaking the real wire protocol on loopback:
 * conditional puts and updates, deletes and consistent queries run as DynamoDB runs them, not as a mock says.
 * dynalite does not implement TransactWriteItems (it answers UnknownOperationException), so the atomicity of
 * recordPage and recordPageFailure is covered by tests/unit/services/adapters/aws/dynamodb/run-ledger.test.ts, which checks their
 * exact transactions and conditional expressions; what they write is read back here with the transactions played
 * one item after another (tests/helpers/dynalite-transactions.ts).
 */
describe('DynamoDbRunLedger on dynalite', () => {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  let client: DynamoDBClient;
  let table = 0;
  let plainSend: DynamoDBClient['send'];
  const restoreSend = () => {
    client.send = plainSend;
  };

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    plainSend = client.send;
  });

  afterAll(async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function freshLedger(clock = manualClock()): Promise<DynamoDbRunLedger> {
    table += 1;
    const tableName = `ledger-${table}`;
    await createLedgerTable(client, tableName);
    return new DynamoDbRunLedger(client, { tableName, clock });
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

  /** A claimant whose lease runs `seconds` past the clock's time. */
  const claimantOf = (id: string, clock: { now(): Date }, seconds = 40) => ({
    id,
    leaseExpiresAt: new Date(clock.now().getTime() + seconds * 1000),
  });

  it('keeps a stored page’s rows and checksum, the first record kept, and tells them for a resume', async () => {
    const ledger = await freshLedger();
    playTransactionsOneByOne(client);
    try {
      const first = 'c'.repeat(64);
      expect(await ledger.recordPage(runId, 'sensors', 1, 50_000, first)).toBe(true);
      // A redelivery, or another attempt's announcement of other bytes: the first record stays.
      expect(await ledger.recordPage(runId, 'sensors', 1, 49_999, 'd'.repeat(64))).toBe(false);
      expect(await ledger.recordPage(runId, 'sensors', 2, 7)).toBe(true);

      expect(await ledger.storedPage(runId, 'sensors', 1)).toEqual({ rows: 50_000, sha256: first });
      // Announced without a checksum (a downloader from before them): the rows only.
      expect(await ledger.storedPage(runId, 'sensors', 2)).toEqual({ rows: 7 });
      expect(await ledger.storedPage(runId, 'sensors', 3)).toBeUndefined();
      expect(await ledger.storedPage(runId, 'vehicles', 1)).toBeUndefined();
      expect((await ledger.progress(runId)).datasets.sensors).toMatchObject({ storedPages: 2, rows: 50_007 });
    } finally {
      restoreSend();
    }
  }, 30_000);

  it('grants the drained claim to exactly one of many concurrent callers, until released', async () => {
    const clock = manualClock();
    const ledger = await freshLedger(clock);
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) => ledger.claimDrained(runId, claimantOf(`event-${i}`, clock))),
    );
    expect(claims.filter((c) => c.outcome === 'won')).toHaveLength(1);
    const winner = claims.findIndex((c) => c.outcome === 'won');
    // Every other caller is told whose claim holds it, and until when.
    for (const claim of claims.filter((c) => c.outcome !== 'won'))
      expect(claim).toEqual({
        outcome: 'held',
        claimant: `event-${winner}`,
        leaseExpiresAt: claimantOf('', clock).leaseExpiresAt,
      });
    expect((await ledger.progress(runId)).drained).toBe(true);
    await ledger.releaseClaim(runId);
    expect(await ledger.claimDrained(runId, claimantOf('event-10', clock))).toEqual({ outcome: 'won' });
  }, 30_000);

  it('lets exactly one of many callers take over a claim once its lease has expired, never before', async () => {
    const clock = manualClock();
    const ledger = await freshLedger(clock);
    expect(await ledger.claimDrained(runId, claimantOf('crashed', clock))).toEqual({ outcome: 'won' });
    // The claimant died before publishing. Until its lease expires, no one takes the claim, not even a retry of
    // the same event.
    clock.advance(39_999);
    expect(await ledger.claimDrained(runId, claimantOf('crashed', clock))).toMatchObject({ outcome: 'held' });
    expect(await ledger.claimDrained(runId, claimantOf('other', clock))).toMatchObject({
      outcome: 'held',
      claimant: 'crashed',
    });
    // Expired: of ten racing callers one wins and says whose claim it took over; the others see the new claim.
    clock.advance(2);
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) => ledger.claimDrained(runId, claimantOf(`retry-${i}`, clock))),
    );
    const won = claims.filter((c) => c.outcome === 'won');
    expect(won).toEqual([
      {
        outcome: 'won',
        tookOverFrom: {
          claimant: 'crashed',
          leaseExpiredAt: new Date(Date.parse('2026-11-25T01:00:40.000Z')),
        },
      },
    ]);
    expect(claims.filter((c) => c.outcome === 'held')).toHaveLength(9);
  }, 30_000);

  it('never lets a confirmed claim lapse', async () => {
    const clock = manualClock();
    const ledger = await freshLedger(clock);
    await ledger.claimDrained(runId, claimantOf('published', clock));
    await ledger.confirmDrained(runId);
    clock.advance(24 * 3600_000);
    expect(await ledger.claimDrained(runId, claimantOf('late', clock))).toEqual({ outcome: 'announced' });
    expect((await ledger.progress(runId)).drained).toBe(true);
    // Confirming a claim released meanwhile does not bring it back.
    await ledger.releaseClaim(runId);
    await ledger.confirmDrained(runId);
    expect((await ledger.progress(runId)).drained).toBe(false);
  }, 30_000);

  it('marks the run finished and forgets it on reset', async () => {
    const ledger = await freshLedger();
    await ledger.recordPlan(runId, 'vehicles', { totalPages: 1, window });
    await ledger.claimDrained(runId, claimantOf('event', manualClock()));
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
