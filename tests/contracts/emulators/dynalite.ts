import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { playTransactionsOneByOne } from '../../helpers/dynalite-transactions.js';

/** dynalite (DynamoDB on its real JSON wire protocol) on 127.0.0.1, with a client and a table maker. */
export interface Dynalite {
  client: DynamoDBClient;
  /** A new table keyed as the run ledger's is: `pk` and `sk`, both strings. */
  createLedgerTable(): Promise<string>;
  stop(): Promise<void>;
}

/** Creates a table keyed as the run ledger's is (`pk` and `sk`, both strings), as the CDK app declares it. */
export async function createLedgerTable(client: DynamoDBClient, tableName: string): Promise<void> {
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
}

/**
 * dynalite answers TransactWriteItems with UnknownOperationException, so the client plays the ledger's transactions
 * one item at a time (tests/helpers/dynalite-transactions.ts): the conditional first item keeps a page counted
 * once, but no case may rely on the items being atomic together. Their exact shape is checked by
 * tests/unit/services/adapters/aws/dynamodb/run-ledger.test.ts.
 */
export async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'contract', secretAccessKey: 'contract' },
  });
  playTransactionsOneByOne(client);
  let tables = 0;
  return {
    client,
    createLedgerTable: async () => {
      tables += 1;
      const tableName = `ledger-${tables}`;
      await createLedgerTable(client, tableName);
      return tableName;
    },
    stop: async () => {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
