import { Readable } from 'node:stream';
import {
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import { DynamoDbRunLedger } from '../../../services/adapters/aws/dynamodb/run-ledger.js';
import { CloudTwin } from '../../../twin/cloud-twin.js';
import { TwinEventRouter } from '../../../twin/events/event-router.js';
import { IamAuthorizer } from '../../../twin/iam/iam-authorizer.js';
import { LambdaEnvironment } from '../../../twin/lambda/lambda-runner.js';
import { functionOfConstruct, type TwinBucket } from '../../../twin/template/stack-model.js';
import { TWIN_REGION } from '../../../twin/twin-account.js';
import { runId, window } from '../../helpers/samples.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';

let stack: TwinStack;
let twin: CloudTwin;

beforeAll(async () => {
  stack = synthesizeTwinStack({ bundle: true });
  twin = await CloudTwin.start({ assemblyDir: stack.assemblyDir });
}, 120_000);

const environments: LambdaEnvironment[] = [];

afterAll(async () => {
  for (const environment of environments) await environment.stop();
  await twin?.stop();
  discardTwinStack(stack);
});

/** SDK clients configured as a function's would be: its role's session, the twin's endpoint. */
function clientsOf(construct: string) {
  const fn = functionOfConstruct(twin.model, `Services/${construct}`);
  const credentials = twin.credentialsOf(fn);
  const config = { region: TWIN_REGION, endpoint: twin.endpoint, credentials, maxAttempts: 1 };
  return {
    s3: new S3Client(config),
    sqs: new SQSClient(config),
    secrets: new SecretsManagerClient(config),
    dynamodb: new DynamoDBClient(config),
  };
}

const bucket = (prefix: string): TwinBucket => {
  const found = [...twin.model.buckets.values()].find((b) => b.logicalId.startsWith(prefix));
  if (found === undefined) throw new Error(`no bucket ${prefix}`);
  return found;
};
const tasksQueueUrl = () =>
  [...twin.model.queues.values()].find((q) => q.logicalId.startsWith('TasksQueue'))?.url;

const failureOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return { name: (error as Error).name, status };
  }
  throw new Error('expected the request to fail');
};

describe('the twin front: S3, SQS and Secrets Manager with IAM enforced', () => {
  it('lets the downloader put a page into the raw bucket and refuses it the warehouse, as AccessDenied', async () => {
    const { s3 } = clientsOf('Downloader');
    await s3.send(
      new PutObjectCommand({ Bucket: bucket('LakeRaw').name, Key: 'raw/p1.ndjson', Body: '{"a":1}\n' }),
    );
    expect(
      await failureOf(
        s3.send(new PutObjectCommand({ Bucket: bucket('LakeWarehouse').name, Key: 'x', Body: 'x' })),
      ),
    ).toEqual({ name: 'AccessDenied', status: 403 });
    expect(twin.refusals.at(-1)).toMatchObject({
      action: 's3:PutObject',
      resource: `${bucket('LakeWarehouse').arn}/x`,
    });
  });

  it('passes a multipart upload of a page (lib-storage, as the downloader streams one) with the key use it needs', async () => {
    const { s3 } = clientsOf('Downloader');
    const part = Buffer.alloc(5 * 1024 * 1024, 'a');
    async function* page() {
      yield part;
      yield Buffer.from('tail');
    }
    const key = 'raw/multipart.ndjson';
    await new Upload({
      client: s3,
      params: { Bucket: bucket('LakeRaw').name, Key: key, Body: Readable.from(page()) },
    }).done();
    const head = await clientsOf('QueryRunner').s3.send(
      new HeadObjectCommand({ Bucket: bucket('LakeRaw').name, Key: key }),
    );
    expect(head.ContentLength).toBe(part.length + 4);
    const role = functionOfConstruct(twin.model, 'Services/Downloader').roleLogicalId;
    const used = twin.authorizer
      .allowedRequests()
      .filter((r) => r.role === role)
      .map((r) => r.action);
    // CreateMultipartUpload needs GenerateDataKey, CompleteMultipartUpload Decrypt, on an SSE-KMS bucket.
    expect(used).toEqual(expect.arrayContaining(['s3:PutObject', 'kms:GenerateDataKey', 'kms:Decrypt']));
  });

  it('answers a missing key 404 to a reader that may list the bucket, 403 to one that may not', async () => {
    const key = { Bucket: bucket('LakeRaw').name, Key: 'raw/missing.ndjson' };
    expect(await failureOf(clientsOf('QueryRunner').s3.send(new HeadObjectCommand(key)))).toEqual({
      name: 'NotFound',
      status: 404,
    });
    expect(await failureOf(clientsOf('QueryRunner').s3.send(new GetObjectCommand(key)))).toEqual({
      name: 'NoSuchKey',
      status: 404,
    });
    // A HEAD answer has no body, so the error has no code for the SDK to name: only the status says 403.
    expect(await failureOf(clientsOf('Planner').s3.send(new HeadObjectCommand(key)))).toMatchObject({
      status: 403,
    });
  });

  it('passes the planner a send to the tasks queue and the downloader a receive, and refuses the reverse', async () => {
    await clientsOf('Planner').sqs.send(
      new SendMessageCommand({ QueueUrl: tasksQueueUrl(), MessageBody: '{"page":1}' }),
    );
    const received = await clientsOf('Downloader').sqs.send(
      new ReceiveMessageCommand({ QueueUrl: tasksQueueUrl(), MaxNumberOfMessages: 10 }),
    );
    expect(received.Messages?.map((m) => m.Body)).toEqual(['{"page":1}']);
    expect(
      await failureOf(
        clientsOf('Downloader').sqs.send(
          new SendMessageCommand({ QueueUrl: tasksQueueUrl(), MessageBody: 'x' }),
        ),
      ),
    ).toEqual({ name: 'AccessDenied', status: 403 });
  });

  it("gives a secret's value to a role granted it, through the key, and refuses any other", async () => {
    const [secret] = twin.model.secrets.values();
    if (secret === undefined) throw new Error('no secret');
    twin.secrets.put(secret.arn, 'client-secret');
    const value = await clientsOf('Downloader').secrets.send(
      new GetSecretValueCommand({ SecretId: secret.arn }),
    );
    expect(value.SecretString).toBe('client-secret');
    expect(
      await failureOf(clientsOf('Report').secrets.send(new GetSecretValueCommand({ SecretId: secret.arn }))),
    ).toEqual({ name: 'AccessDeniedException', status: 400 });
  });

  it('refuses a key it did not issue', async () => {
    const stranger = new S3Client({
      region: TWIN_REGION,
      endpoint: twin.endpoint,
      credentials: { accessKeyId: 'AKIASTRANGER', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    expect(
      await failureOf(
        stranger.send(new PutObjectCommand({ Bucket: bucket('LakeRaw').name, Key: 'k', Body: 'x' })),
      ),
    ).toEqual({
      name: 'InvalidAccessKeyId',
      status: 403,
    });
  });

  it('records every (role, action, resource) it allowed', () => {
    const downloader = functionOfConstruct(twin.model, 'Services/Downloader').roleLogicalId;
    expect(twin.authorizer.allowedRequests()).toContainEqual(
      expect.objectContaining({
        role: downloader,
        action: 's3:PutObject',
        resource: `${bucket('LakeRaw').arn}/raw/p1.ndjson`,
      }),
    );
    expect(twin.authorizer.allowedRequests()).toContainEqual(
      expect.objectContaining({ role: downloader, action: 'kms:GenerateDataKey' }),
    );
  });
});

describe('the twin front: DynamoDB with IAM enforced, TransactWriteItems filled in', () => {
  const table = () => {
    const [found] = twin.model.tables.values();
    if (found === undefined) throw new Error('no table');
    return found;
  };
  const ledgerOf = (construct: string) =>
    new DynamoDbRunLedger(clientsOf(construct).dynamodb, { tableName: table().name });

  it("runs the ledger adapter's transactions with the completion tracker's role: a page counts once", async () => {
    const ledger = ledgerOf('CompletionTracker');
    await ledger.recordPlan(runId, 'vehicles', { totalPages: 2, window });
    await expect(ledger.recordPlan(runId, 'vehicles', { totalPages: 3, window })).rejects.toThrow(
      'conflicts with the recorded 2 pages',
    );
    expect(await ledger.recordPage(runId, 'vehicles', 1, 10)).toBe(true);
    // The same page delivered again: its PAGE put's condition cancels the transaction, the counters stay.
    expect(await ledger.recordPage(runId, 'vehicles', 1, 10)).toBe(false);
    // A late failure of a stored page is not recorded (its ConditionCheck fails).
    await ledger.recordPageFailure(runId, 'vehicles', 1, 'late');
    await ledger.recordPageFailure(runId, 'vehicles', 2, 'gave up');
    expect(await ledger.progress(runId)).toMatchObject({
      window,
      datasets: { vehicles: { totalPages: 2, storedPages: 1, rows: 10 } },
      failures: [{ dataset: 'vehicles', page: 2, reason: 'gave up' }],
    });
    // A redrive stores page 2: the failure goes with the same transaction.
    expect(await ledger.recordPage(runId, 'vehicles', 2, 5)).toBe(true);
    expect(await ledger.progress(runId)).toMatchObject({
      datasets: { vehicles: { storedPages: 2, rows: 15 } },
      failures: [],
    });
    // The failed claim's item comes back with the error (ReturnValuesOnConditionCheckFailure), as from DynamoDB.
    const claimant = { id: 'event-1', leaseExpiresAt: new Date(Date.now() + 60_000) };
    expect(await ledger.claimDrained(runId, claimant)).toEqual({ outcome: 'won' });
    expect(await ledger.claimDrained(runId, { ...claimant, id: 'event-2' })).toEqual({
      outcome: 'held',
      claimant: 'event-1',
      leaseExpiresAt: claimant.leaseExpiresAt,
    });
  });

  it('answers TransactionCanceledException with one reason per item, as DynamoDB does', async () => {
    const ledger = ledgerOf('CompletionTracker');
    await ledger.recordPage('cancel-run', 'sensors', 7, 1);
    const { dynamodb } = clientsOf('CompletionTracker');
    const error = await dynamodb
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: table().name,
                Item: { pk: { S: 'cancel-run' }, sk: { S: 'PAGE#sensors#0000007' } },
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            { Delete: { TableName: table().name, Key: { pk: { S: 'cancel-run' }, sk: { S: 'X' } } } },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'ConditionalCheckFailed', Item: { rows: { N: '1' } } }, { Code: 'None' }],
    });
  });

  it('refuses a transaction with two operations on one item, and a table the template does not create', async () => {
    const { dynamodb } = clientsOf('CompletionTracker');
    const key = { pk: { S: 'twice' }, sk: { S: 'item' } };
    expect(
      await failureOf(
        dynamodb.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: table().name, Item: key } },
              { Delete: { TableName: table().name, Key: key } },
            ],
          }),
        ),
      ),
    ).toEqual({ name: 'ValidationException', status: 400 });
    expect(
      await failureOf(dynamodb.send(new PutItemCommand({ TableName: 'not-in-the-template', Item: key }))),
    ).toEqual({ name: 'ResourceNotFoundException', status: 400 });
  });

  it("refuses a role the table's grants leave out, and an action the ledger's grant does not list", async () => {
    expect(
      await failureOf(
        clientsOf('Downloader').dynamodb.send(
          new PutItemCommand({ TableName: table().name, Item: { pk: { S: 'x' }, sk: { S: 'y' } } }),
        ),
      ),
    ).toEqual({ name: 'AccessDeniedException', status: 400 });
    expect(twin.refusals.at(-1)).toMatchObject({ action: 'dynamodb:PutItem', resource: table().arn });
    expect(
      await failureOf(
        clientsOf('CompletionTracker').dynamodb.send(
          new QueryCommand({
            TableName: table().name,
            IndexName: 'none',
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: 'x' } },
          }),
        ),
      ),
    ).toEqual({ name: 'AccessDeniedException', status: 400 });
    expect(twin.refusals.at(-1)).toMatchObject({ resource: `${table().arn}/index/none` });
  });
});

describe('the bus: EventBridge invokes a target only as the template lets it', () => {
  const tracker = () => functionOfConstruct(twin.model, 'Services/CompletionTracker');
  const trackerRule = () => {
    const rule = twin.model.eventRules.find((r) => r.targets.some((t) => t.arn === tracker().arn));
    if (rule === undefined) throw new Error('no rule targets the tracker');
    return rule;
  };
  const entry = (detail: unknown) => {
    const [bus] = twin.model.eventBuses.values();
    return {
      id: crypto.randomUUID(),
      busArn: bus?.arn ?? '',
      source: 'fleet-etl',
      detailType: 'PageDownloaded',
      detail,
      time: new Date().toISOString(),
      resources: [],
    };
  };

  it("invokes the tracker for its rule through the function's resource policy, and for no other source", async () => {
    const invoke = (sourceArn: string) =>
      twin.authorizer.authorizeService({
        service: 'events.amazonaws.com',
        action: 'lambda:InvokeFunction',
        resource: tracker().arn,
        sourceArn,
      });
    expect(await invoke(trackerRule().arn)).toEqual({ allowed: true });
    expect(await invoke(`${trackerRule().arn}-other`)).toMatchObject({ allowed: false });
  });

  it('without the AWS::Lambda::Permission the delivery fails and the event goes to the target DLQ, as in AWS', async () => {
    const withoutPermission = {
      ...twin.model,
      lambdaPermissions: twin.model.lambdaPermissions.filter((p) => p.functionArn !== tracker().arn),
    };
    const sent: { queueArn: string; attributes: Record<string, string> }[] = [];
    const router = new TwinEventRouter({
      model: withoutPermission,
      authorizer: new IamAuthorizer(withoutPermission),
      sendAsEventBridge: async (queueArn, _body, attributes) => {
        sent.push({ queueArn, attributes });
      },
      sendAsFunction: () => Promise.reject(new Error('no invocation expected')),
    });
    router.accept(entry({}));
    // The metrics rule's log group target is passed over (not emulated).
    const outcomes = (await router.deliverPending({ to: [tracker().logicalId] })).filter(
      (o) => o.kind !== 'not-emulated',
    );
    expect(outcomes).toEqual([
      expect.objectContaining({ kind: 'dead-lettered', errorCode: 'NO_PERMISSIONS' }),
    ]);
    // The undelivered-events queue's policy lets EventBridge send for this rule.
    expect(sent).toEqual([
      {
        queueArn: trackerRule().targets[0]?.deadLetterArn,
        attributes: expect.objectContaining({ RULE_ARN: trackerRule().arn, ERROR_CODE: 'NO_PERMISSIONS' }),
      },
    ]);
  });

  it("encrypts with the bus's key only as its key policy lets EventBridge: without that, the event goes to the bus's DLQ", async () => {
    const withoutEventBridgeInKeys = {
      ...twin.model,
      keys: new Map(
        [...twin.model.keys].map(([id, key]) => [
          id,
          {
            ...key,
            policy: {
              ...key.policy,
              Statement: key.policy.Statement.filter(
                (statement) =>
                  !(
                    typeof statement.Principal === 'object' &&
                    statement.Principal.Service === 'events.amazonaws.com'
                  ),
              ),
            },
          },
        ]),
      ),
    };
    const sent: string[] = [];
    const router = new TwinEventRouter({
      model: withoutEventBridgeInKeys,
      authorizer: new IamAuthorizer(withoutEventBridgeInKeys),
      sendAsEventBridge: async (queueArn) => {
        sent.push(queueArn);
      },
      sendAsFunction: () => Promise.reject(new Error('no invocation expected')),
    });
    router.accept(entry({}));
    expect(await router.deliverPending()).toEqual([]);
    const [bus] = twin.model.eventBuses.values();
    expect(router.outcomes).toEqual([expect.objectContaining({ kind: 'bus-dead-lettered' })]);
    expect(sent).toEqual([bus?.deadLetterArn]);
    expect(router.archived).toEqual([]);

    // With the template's key policy the same event is archived and routed.
    const routed = new TwinEventRouter({
      model: twin.model,
      authorizer: twin.authorizer,
      sendAsEventBridge: () => Promise.reject(new Error('no dead letter expected')),
      sendAsFunction: () => Promise.reject(new Error('no invocation expected')),
    });
    routed.accept(entry({}));
    await routed.deliverPending({ to: [] });
    expect(routed.archived).toHaveLength(1);
    expect(routed.pendingFor(tracker().logicalId)).toHaveLength(1);
  });

  it("retries a failing invocation as its EventInvokeConfig says, then sends the record to its on-failure destination with the function's role", async () => {
    const fn = tracker();
    const environment = new LambdaEnvironment({ fn, environment: twin.environmentOf(fn) });
    environments.push(environment);
    twin.bus.attach(fn, environment);
    const refusedBefore = twin.refusals.length;
    // A detail the tracker's validation refuses: every attempt fails.
    twin.bus.accept(entry({ runId: 'r', dataset: 'nope' }));
    const outcomes = (await twin.bus.deliverPending({ to: [fn.logicalId] })).filter(
      (o) => o.kind !== 'not-emulated',
    );
    const config = twin.model.asyncInvokeConfigs.find((c) => c.functionLogicalId === fn.logicalId);
    expect(outcomes).toEqual([
      expect.objectContaining({
        kind: 'invoked',
        attempts: Array.from({ length: (config?.maximumRetryAttempts ?? 0) + 1 }, () =>
          expect.objectContaining({ ok: false }),
        ),
        failureDestination: config?.onFailureArn,
      }),
    ]);
    expect(twin.refusals.slice(refusedBefore)).toEqual([]);
    expect(twin.authorizer.allowedRequests()).toContainEqual(
      expect.objectContaining({
        role: fn.roleLogicalId,
        action: 'sqs:SendMessage',
        resource: config?.onFailureArn,
      }),
    );
  }, 60_000);
});
