import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
  type TransactWriteItemsCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';

/**
 * dynalite answers TransactWriteItems with UnknownOperationException. This plays a transaction's items one after
 * another on the client instead, for tests that need the ledger's recordPage / recordPageFailure to write real items:
 * not atomic, so no test of concurrency may rely on it. A failed condition in the first item cancels the rest as
 * DynamoDB would, with CancellationReasons; a ConditionCheck understands only `attribute_not_exists(pk)`, the one
 * condition the ledger checks. Items after the first are not expected to fail their conditions.
 */
export function playTransactionsOneByOne(client: DynamoDBClient): void {
  const send = client.send.bind(client);
  // send is overloaded (promise and callback forms); the ledger uses the promise form only.
  client.send = (async (command: Parameters<typeof send>[0]) => {
    if (!(command instanceof TransactWriteItemsCommand)) return send(command);
    const items = command.input.TransactItems ?? [];
    for (const [index, item] of items.entries()) {
      const checked = await checkCondition(client, item);
      if (checked === 'failed') {
        if (index > 0)
          throw new Error('dynalite transaction shim: only the first item may fail its condition');
        throw Object.assign(new Error('Transaction cancelled'), {
          name: 'TransactionCanceledException',
          CancellationReasons: items.map((_, i) => ({ Code: i === 0 ? 'ConditionalCheckFailed' : 'None' })),
        });
      }
      if (checked === 'written') continue;
      if (item.Put) await send(new PutItemCommand(item.Put));
      else if (item.Update) await send(new UpdateItemCommand(item.Update));
      else if (item.Delete) await send(new DeleteItemCommand(item.Delete));
    }
    const output: TransactWriteItemsCommandOutput = { $metadata: {} };
    return output;
  }) as typeof client.send;
}

type TransactItem = NonNullable<TransactWriteItemsCommandInput['TransactItems']>[number];

/** A conditional put is made here, with its condition: 'written' when it passed. */
async function checkCondition(
  client: DynamoDBClient,
  item: TransactItem,
): Promise<'failed' | 'passed' | 'written'> {
  if (item.ConditionCheck) {
    if (item.ConditionCheck.ConditionExpression !== 'attribute_not_exists(pk)') {
      throw new Error(`dynalite transaction shim: unsupported ${item.ConditionCheck.ConditionExpression}`);
    }
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: item.ConditionCheck.TableName,
        Key: item.ConditionCheck.Key,
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? 'passed' : 'failed';
  }
  if (item.Put?.ConditionExpression !== undefined) {
    try {
      await client.send(new PutItemCommand(item.Put));
      return 'written';
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return 'failed';
      throw error;
    }
  }
  return 'passed';
}
