import { jest } from '@jest/globals';
import { DynamoDbRunLedger } from '../../services/adapters/aws/dynamodb/run-ledger.js';
import { SqliteRunLedger } from '../../services/adapters/local/sqlite/sqlite-run-ledger.js';
import { openStateDatabase } from '../../services/adapters/local/sqlite/state-database.js';
import { manualClock } from '../unit/services/adapters/aws/factories.js';
import { type Dynalite, startDynalite } from './emulators/dynalite.js';
import { runLedgerContract } from './run-ledger.contract.js';

// A case takes milliseconds; the margin is for a machine busy with other tests (jest's default is 5 s).
jest.setTimeout(20_000);

runLedgerContract({
  name: 'SqliteRunLedger over an in-memory state store',
  fresh: async () => {
    const clock = manualClock();
    return {
      ledger: new SqliteRunLedger(openStateDatabase(':memory:'), () => clock.now()),
      clock,
      claimsLapse: false,
      readsStoredPages: true,
    };
  },
});

let dynamo: Dynalite;
runLedgerContract({
  name: 'DynamoDbRunLedger over dynalite',
  start: async () => {
    dynamo = await startDynalite();
  },
  stop: () => dynamo.stop(),
  fresh: async () => {
    const clock = manualClock();
    const tableName = await dynamo.createLedgerTable();
    return {
      ledger: new DynamoDbRunLedger(dynamo.client, { tableName, clock }),
      clock,
      claimsLapse: true,
      readsStoredPages: true,
    };
  },
});
