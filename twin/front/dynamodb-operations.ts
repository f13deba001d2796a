import * as z from 'zod';
import type { TwinTable } from '../template/stack-model.js';
import type { IamCheck } from './iam-check.js';

export class UnmappedDynamoDbRequestError extends Error {
  override readonly name = 'UnmappedDynamoDbRequestError';
}

/** A table the request names that the template does not create: DynamoDB's ResourceNotFoundException. */
export class NonexistentTableError extends Error {
  override readonly name = 'NonexistentTableError';
}

/** The single-table operations whose IAM action is their own name, on the table (or index) ARN. */
const TABLE_OPERATIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'DescribeTable',
]);

/** An item or key in DynamoDB JSON: attribute name to attribute value, passed on to dynalite as given. */
export const ItemSchema = z.record(z.string(), z.unknown());
/** The fields of a transaction item the twin reads; the rest (names, values) is passed on as given. */
const TransactRequestSchema = z.looseObject({
  TableName: z.string(),
  Key: ItemSchema.optional(),
  Item: ItemSchema.optional(),
  ConditionExpression: z.string().optional(),
  UpdateExpression: z.string().optional(),
  ReturnValuesOnConditionCheckFailure: z.string().optional(),
});
export type TransactRequest = z.infer<typeof TransactRequestSchema>;
const TransactItemSchema = z.union([
  z.object({ ConditionCheck: TransactRequestSchema }),
  z.object({ Put: TransactRequestSchema }),
  z.object({ Update: TransactRequestSchema }),
  z.object({ Delete: TransactRequestSchema }),
]);
export const TransactWriteInputSchema = z.looseObject({
  TransactItems: z.array(TransactItemSchema).min(1).max(100),
});
export type TransactItem = z.infer<typeof TransactItemSchema>;

/** The IAM action AWS authorizes for each kind of transaction item. */
const TRANSACT_ACTIONS = {
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
} as const;

export function transactItemParts(item: TransactItem) {
  if ('ConditionCheck' in item) return { kind: 'ConditionCheck' as const, request: item.ConditionCheck };
  if ('Put' in item) return { kind: 'Put' as const, request: item.Put };
  if ('Update' in item) return { kind: 'Update' as const, request: item.Update };
  return { kind: 'Delete' as const, request: item.Delete };
}

export interface DynamoDbOperation {
  operation: string;
  checks: IamCheck[];
}

/**
 * The IAM checks of a DynamoDB request (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html):
 * a single-item or query operation is its own action on the table, or on the index it names; BatchWriteItem and
 * BatchGetItem one check per table; TransactWriteItems one per item, with the item's own action
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html). A table may be
 * named by name or ARN.
 */
export function dynamoDbOperation(
  target: string,
  input: Record<string, unknown>,
  tables: Iterable<TwinTable>,
): DynamoDbOperation {
  const operation = target.replace(/^DynamoDB_20120810\./, '');
  const known = [...tables];
  const tableOf = (nameOrArn: unknown): TwinTable => {
    const table = known.find((t) => t.name === nameOrArn || t.arn === nameOrArn);
    if (table === undefined)
      throw new NonexistentTableError(`Requested resource not found: Table: ${String(nameOrArn)} not found`);
    return table;
  };
  if (TABLE_OPERATIONS.has(operation)) {
    const table = tableOf(input.TableName);
    const index = typeof input.IndexName === 'string' ? `/index/${input.IndexName}` : '';
    return { operation, checks: [{ action: `dynamodb:${operation}`, resource: `${table.arn}${index}` }] };
  }
  if (operation === 'BatchWriteItem' || operation === 'BatchGetItem') {
    const requestItems = z.record(z.string(), z.unknown()).parse(input.RequestItems ?? {});
    return {
      operation,
      checks: Object.keys(requestItems).map((name) => ({
        action: `dynamodb:${operation}`,
        resource: tableOf(name).arn,
      })),
    };
  }
  if (operation === 'TransactWriteItems') {
    const parsed = TransactWriteInputSchema.parse(input);
    return {
      operation,
      checks: parsed.TransactItems.map((item) => {
        const { kind, request } = transactItemParts(item);
        return { action: TRANSACT_ACTIONS[kind], resource: tableOf(request.TableName).arn };
      }),
    };
  }
  throw new UnmappedDynamoDbRequestError(`the twin does not emulate DynamoDB ${operation}`);
}
