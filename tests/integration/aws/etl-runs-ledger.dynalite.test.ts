import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { runsCommand } from '../../../cli/runs-command.js';
import { DynamoDbRunLedger } from '../../../services/adapters/aws/dynamodb/run-ledger.js';
import { createLedgerTable } from '../../contracts/emulators/dynalite.js';
import { playTransactionsOneByOne } from '../../helpers/dynalite-transactions.js';
import { runId, window } from '../../helpers/samples.js';
import { stdoutOf } from '../../helpers/stdout.js';

/**
 * `etl runs --ledger-table` against dynalite: two nights recorded through the DynamoDB ledger adapter, then read
 * back by the command in this process, which finds the endpoint, region and credentials in the AWS environment
 * variables as it would in AWS. dynalite has no TransactWriteItems, so the writing client plays the ledger's
 * transactions one item at a time (tests/helpers/dynalite-transactions.ts).
 */
describe('etl runs --ledger-table on dynalite', () => {
  const server = dynalite({ createTableMs: 0 });
  const tableName = 'fleet-etl-test-RunLedger';
  const variables = [
    'AWS_ENDPOINT_URL_DYNAMODB',
    'AWS_REGION',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'RUN_LEDGER_TABLE',
  ] as const;
  const saved = new Map(variables.map((name) => [name, process.env[name]]));
  let client: DynamoDBClient;

  const failedRun = '2026-11-25';
  const failedWindow = { from: '2026-11-25T00:00:00.000Z', to: '2026-11-26T00:00:00.000Z', timeZone: 'UTC' };

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    delete process.env.RUN_LEDGER_TABLE;
    client = new DynamoDBClient({});
    playTransactionsOneByOne(client);
    await createLedgerTable(client, tableName);
    const ledger = new DynamoDbRunLedger(client, { tableName });
    // A finished night: both datasets planned and stored, a page delivered twice counted once, EtlDone seen.
    await ledger.recordPlan(runId, 'vehicles', { totalPages: 1, window });
    await ledger.recordPlan(runId, 'sensors', { totalPages: 2, window });
    expect(await ledger.recordPage(runId, 'vehicles', 1, 50)).toBe(true);
    expect(await ledger.recordPage(runId, 'sensors', 1, 1000)).toBe(true);
    expect(await ledger.recordPage(runId, 'sensors', 1, 1000)).toBe(false);
    expect(await ledger.recordPage(runId, 'sensors', 2, 400)).toBe(true);
    await ledger.markFinished(runId);
    // A failed night: sensors page 2 gave up; a late failure of the stored page 1 is not recorded.
    await ledger.recordPlan(failedRun, 'vehicles', { totalPages: 1, window: failedWindow });
    await ledger.recordPlan(failedRun, 'sensors', { totalPages: 3, window: failedWindow });
    await ledger.recordPage(failedRun, 'vehicles', 1, 50);
    await ledger.recordPage(failedRun, 'sensors', 1, 1000);
    await ledger.recordPageFailure(failedRun, 'sensors', 2, 'HTTP 400 invalid_request');
    await ledger.recordPageFailure(failedRun, 'sensors', 1, 'late duplicate');
  }, 30_000);

  afterAll(async () => {
    client.destroy();
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const unknownToTheLedger = {
    unknownVehicleReadings: null,
    attempts: null,
    startedAt: null,
    endedAt: null,
    durationMs: null,
    report: null,
  };
  const dataset = (plannedPages: number, storedPages: number, rows: number) => ({
    plannedPages,
    storedPages,
    rows,
    quarantinedRows: null,
    outsideWindowRows: null,
  });

  it('lists both nights of the ledger as --json, with what only a state folder knows as null', async () => {
    const { code, out } = await stdoutOf(() => runsCommand(['--ledger-table', tableName, '--json']));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      ledgerTable: tableName,
      runs: [
        {
          runId,
          status: 'succeeded',
          window,
          datasets: { vehicles: dataset(1, 1, 50), sensors: dataset(2, 2, 1400) },
          failures: [],
          ...unknownToTheLedger,
        },
        {
          runId: failedRun,
          status: 'failed',
          window: failedWindow,
          datasets: { vehicles: dataset(1, 1, 50), sensors: dataset(3, 1, 1000) },
          failures: ['sensors page 2: HTTP 400 invalid_request'],
          ...unknownToTheLedger,
        },
      ],
    });
  }, 30_000);

  it('takes the table from RUN_LEDGER_TABLE, reads one run with --run, and prints the table', async () => {
    process.env.RUN_LEDGER_TABLE = tableName;
    try {
      const one = await stdoutOf(() => runsCommand(['--run', failedRun, '--json']));
      expect(JSON.parse(one.out).runs.map((run: { runId: string }) => run.runId)).toEqual([failedRun]);
      const missing = await stdoutOf(() => runsCommand(['--run', '2026-01-01', '--json']));
      expect(JSON.parse(missing.out).runs).toEqual([]);
      const table = await stdoutOf(() => runsCommand([]));
      expect(table.code).toBe(0);
      const lines = table.out.split('\n');
      expect(lines[0]).toBe(`2 night(s) in DynamoDB table ${tableName}`);
      expect(lines[3]).toMatch(/^2026-11-24 +2026-11-24 UTC +succeeded +3\/3 +1,450 +\? +\?$/);
      expect(lines[4]).toMatch(
        /^2026-11-25 +2026-11-25 UTC +failed +2\/4 +1,050 +\? +\? +sensors page 2: HTTP 400/,
      );
    } finally {
      delete process.env.RUN_LEDGER_TABLE;
    }
  }, 30_000);
});
