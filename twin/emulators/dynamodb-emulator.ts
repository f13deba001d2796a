import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import type { StackModel, TwinTable } from '../template/stack-model.js';
import { TWIN_REGION } from '../twin-account.js';

/** dynalite's answer to one call: its status and parsed JSON body. */
export interface DynamoAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface DynamoDbEmulator {
  url: URL;
  /** One call on the wire protocol, made by the twin itself (provisioning, a transaction's steps). */
  call(operation: string, input: Record<string, unknown>): Promise<DynamoAnswer>;
  /** The twin's scratch twin of a table: same keys, used to evaluate a condition on a copy of one item. */
  scratchTableOf(table: TwinTable): string;
  stop(): Promise<void>;
}

/**
 * dynalite checks that a request carries a SigV4-shaped Authorization header but verifies no signature; the
 * twin's own calls say who they are in the credential's key id.
 */
function twinAuthorization(date: string): string {
  return `AWS4-HMAC-SHA256 Credential=cloud-twin/${date.slice(0, 8)}/${TWIN_REGION}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0`;
}

/**
 * dynalite (DynamoDB on its real JSON wire protocol) on 127.0.0.1, with the template's tables created as
 * CloudFormation would, and one scratch table per table for the condition checks of TransactWriteItems, which
 * dynalite lacks (front/dynamodb-transactions.ts). Only the front talks to it.
 */
export async function startDynamoDbEmulator(model: StackModel): Promise<DynamoDbEmulator> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const url = new URL(`http://127.0.0.1:${port}`);
  const stop = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });

  async function call(operation: string, input: Record<string, unknown>): Promise<DynamoAnswer> {
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${operation}`,
        'x-amz-date': date,
        authorization: twinAuthorization(date),
      },
      body: JSON.stringify(input),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    };
  }
  const scratchTableOf = (table: TwinTable) => `twin-conditions.${table.name}`.slice(0, 255);

  try {
    for (const table of model.tables.values()) {
      // Projections are not read from the template: the twin's indexes hold every attribute.
      const indexes = (list: TwinTable['globalIndexes']) =>
        list.map((index) => ({
          IndexName: index.IndexName,
          KeySchema: index.KeySchema,
          Projection: { ProjectionType: 'ALL' },
        }));
      for (const name of [table.name, scratchTableOf(table)]) {
        const created = await call('CreateTable', {
          TableName: name,
          AttributeDefinitions: table.attributeDefinitions,
          KeySchema: table.keySchema,
          BillingMode: 'PAY_PER_REQUEST',
          ...(table.globalIndexes.length === 0
            ? {}
            : { GlobalSecondaryIndexes: indexes(table.globalIndexes) }),
          ...(table.localIndexes.length === 0 ? {} : { LocalSecondaryIndexes: indexes(table.localIndexes) }),
        });
        if (created.status !== 200)
          throw new Error(`dynalite refused table ${name}: ${JSON.stringify(created.body)}`);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, call, scratchTableOf, stop };
}
