import type { DynamoAnswer, DynamoDbEmulator } from '../emulators/dynamodb-emulator.js';
import type { TwinTable } from '../template/stack-model.js';
import { type FrontResponse, jsonError, jsonResponse } from './aws-error-responses.js';
import {
  ItemSchema,
  type TransactItem,
  type TransactRequest,
  TransactWriteInputSchema,
  transactItemParts,
} from './dynamodb-operations.js';

const JSON_10 = 'application/x-amz-json-1.0';
const DYNAMODB_ERROR = 'com.amazonaws.dynamodb.v20120810#';

type Item = Record<string, unknown>;

/** The names and values an expression refers to: DynamoDB refuses a request that passes any it does not use. */
function usedBy(expressions: readonly (string | undefined)[], request: TransactRequest) {
  const tokens = new Set(expressions.flatMap((e) => e?.match(/[#:][A-Za-z0-9_]+/g) ?? []));
  const pick = (map: unknown) =>
    typeof map === 'object' && map !== null
      ? Object.fromEntries(Object.entries(map).filter(([token]) => tokens.has(token)))
      : {};
  const names = pick(request.ExpressionAttributeNames);
  const values = pick(request.ExpressionAttributeValues);
  return {
    ...(Object.keys(names).length === 0 ? {} : { ExpressionAttributeNames: names }),
    ...(Object.keys(values).length === 0 ? {} : { ExpressionAttributeValues: values }),
  };
}

function keyOf(table: TwinTable, kind: string, request: TransactRequest): Item {
  if (kind !== 'Put') return request.Key ?? {};
  const item = request.Item ?? {};
  return Object.fromEntries(table.keySchema.map((k) => [k.AttributeName, item[k.AttributeName]]));
}

const errorOf = (answer: DynamoAnswer) =>
  String(answer.body.__type ?? '')
    .split('#')
    .at(-1) ?? '';

/** Passes dynalite's own error (a ValidationException, say) on as it gave it. */
function passOn(answer: DynamoAnswer): FrontResponse {
  return {
    status: answer.status,
    headers: { 'content-type': JSON_10 },
    body: Buffer.from(JSON.stringify(answer.body)),
  };
}

interface Step {
  kind: 'ConditionCheck' | 'Put' | 'Update' | 'Delete';
  request: TransactRequest;
  table: TwinTable;
  key: Item;
}

/**
 * The item's own operation, condition included, on a copy of the item in the table's scratch twin: dynalite
 * evaluates the condition and validates the expressions exactly as for a single write, and the table is untouched.
 * A ConditionCheck is tried as a conditional delete.
 */
async function tryOnScratch(step: Step, existing: Item | undefined, emulator: DynamoDbEmulator) {
  const TableName = emulator.scratchTableOf(step.table);
  await emulator.call('DeleteItem', { TableName, Key: step.key });
  if (existing !== undefined) await emulator.call('PutItem', { TableName, Item: existing });
  const { TableName: _real, ReturnValuesOnConditionCheckFailure: _returns, ...request } = step.request;
  const tried =
    step.kind === 'ConditionCheck'
      ? await emulator.call('DeleteItem', { TableName, ...request })
      : await emulator.call(`${step.kind}Item`, { TableName, ...request });
  await emulator.call('DeleteItem', { TableName, Key: step.key });
  return tried;
}

/**
 * TransactWriteItems, which dynalite lacks, on top of the operations it has
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html): every item's
 * condition is evaluated first, against the state before the transaction, by dynalite itself (the item's write is
 * tried on a copy in the table's scratch twin); only if all hold are the writes applied,
 * without their conditions. A failed condition cancels the whole transaction with TransactionCanceledException
 * and one CancellationReason per item, in order ("None" for the others), the item included when the request
 * asked for ALL_OLD. The caller serializes DynamoDB requests, so nothing interleaves between check and write.
 */
export async function transactWrite(
  input: Record<string, unknown>,
  tables: Iterable<TwinTable>,
  emulator: DynamoDbEmulator,
): Promise<FrontResponse> {
  const parsed = TransactWriteInputSchema.safeParse(input);
  if (!parsed.success) return jsonError(400, `${DYNAMODB_ERROR}ValidationException`, parsed.error.message);
  const known = [...tables];
  const steps: Step[] = parsed.data.TransactItems.map((item: TransactItem) => {
    const { kind, request } = transactItemParts(item);
    const table = known.find((t) => t.name === request.TableName || t.arn === request.TableName);
    if (table === undefined) throw new Error(`no table ${request.TableName}: checked before`);
    return { kind, request, table, key: keyOf(table, kind, request) };
  });
  const itemIds = steps.map((s) => `${s.table.name}\u0000${JSON.stringify(s.key)}`);
  if (new Set(itemIds).size !== itemIds.length)
    return jsonError(
      400,
      `${DYNAMODB_ERROR}ValidationException`,
      'Transaction request cannot include multiple operations on one item',
    );

  const reasons: Item[] = [];
  for (const step of steps) {
    const current = await emulator.call('GetItem', {
      TableName: step.table.name,
      Key: step.key,
      ConsistentRead: true,
    });
    if (current.status !== 200) return passOn(current);
    const existing = ItemSchema.optional().parse(current.body.Item);
    const tried = await tryOnScratch(step, existing, emulator);
    if (tried.status === 200) reasons.push({ Code: 'None' });
    else if (errorOf(tried) === 'ConditionalCheckFailedException')
      reasons.push({
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        ...(step.request.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && existing !== undefined
          ? { Item: existing }
          : {}),
      });
    else return passOn(tried);
  }
  if (reasons.some((r) => r.Code !== 'None')) {
    const codes = reasons.map((r) => r.Code).join(', ');
    return {
      status: 400,
      headers: { 'content-type': JSON_10 },
      body: Buffer.from(
        JSON.stringify({
          __type: `${DYNAMODB_ERROR}TransactionCanceledException`,
          Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`,
          CancellationReasons: reasons,
        }),
      ),
    };
  }

  for (const step of steps) {
    const TableName = step.table.name;
    const written =
      step.kind === 'Put'
        ? await emulator.call('PutItem', { TableName, Item: step.request.Item })
        : step.kind === 'Update'
          ? await emulator.call('UpdateItem', {
              TableName,
              Key: step.key,
              UpdateExpression: step.request.UpdateExpression,
              ...usedBy([step.request.UpdateExpression], step.request),
            })
          : step.kind === 'Delete'
            ? await emulator.call('DeleteItem', { TableName, Key: step.key })
            : undefined;
    // Each write already succeeded on a copy of its item, so this one can only fail if dynalite does.
    if (written !== undefined && written.status !== 200) return passOn(written);
  }
  return jsonResponse({}, JSON_10);
}
