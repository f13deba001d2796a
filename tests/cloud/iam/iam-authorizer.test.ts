import { type Caller, IamAuthorizer } from '../../../twin/iam/iam-authorizer.js';
import { functionOfConstruct, roleOf, type StackModel } from '../../../twin/template/stack-model.js';
import { TWIN_ACCOUNT, TWIN_REGION } from '../../../twin/twin-account.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';

let stack: TwinStack;

beforeAll(() => {
  stack = synthesizeTwinStack({ bundle: true });
}, 120_000);

afterAll(() => discardTwinStack(stack));

const model = (): StackModel => stack.model;
const callerOf = (construct: string): Caller => {
  const fn = functionOfConstruct(model(), `Services/${construct}`);
  return { role: roleOf(model(), fn), sessionName: fn.name };
};
const bucket = (prefix: string) => {
  const found = [...model().buckets.values()].find((b) => b.logicalId.startsWith(prefix));
  if (found === undefined) throw new Error(`no bucket ${prefix}`);
  return found;
};
const tasksQueue = () => {
  const found = [...model().queues.values()].find((q) => q.logicalId.startsWith('TasksQueue'));
  if (found === undefined) throw new Error('no tasks queue');
  return found;
};
const pageKey = 'raw/vehicles/run=2026-11-24/page=00001.ndjson';

describe('the IAM authorizer, on the synthesized roles and resource policies', () => {
  it('lets the downloader put a page into the raw bucket, and records the grant it used', async () => {
    const authorizer = new IamAuthorizer(model());
    const resource = `${bucket('LakeRaw').arn}/${pageKey}`;
    await expect(
      authorizer.authorize({ caller: callerOf('Downloader'), action: 's3:PutObject', resource }),
    ).resolves.toEqual({ allowed: true });
    expect(authorizer.allowedRequests()).toEqual([
      {
        role: callerOf('Downloader').role.logicalId,
        action: 's3:PutObject',
        resource,
        statements: [
          expect.objectContaining({ policy: expect.stringMatching(/^ServicesDownloaderRoleDefaultPolicy/) }),
        ],
      },
    ]);
  });

  it('refuses the downloader any other bucket, with AWS wording', async () => {
    const decision = await new IamAuthorizer(model()).authorize({
      caller: callerOf('Downloader'),
      action: 's3:PutObject',
      resource: `${bucket('LakeWarehouse').arn}/x`,
    });
    expect(decision).toEqual({
      allowed: false,
      result: 'ImplicitlyDenied',
      message: expect.stringMatching(
        /^User: arn:aws:sts::\d{12}:assumed-role\/.+ is not authorized to perform: s3:PutObject/,
      ),
    });
  });

  it('refuses a caller without TLS through the bucket policy, whatever the role allows', async () => {
    const decision = await new IamAuthorizer(model(), { secureTransport: false }).authorize({
      caller: callerOf('Downloader'),
      action: 's3:PutObject',
      resource: `${bucket('LakeRaw').arn}/${pageKey}`,
    });
    expect(decision).toMatchObject({ allowed: false, result: 'ExplicitlyDenied' });
  });

  it('lets the downloader poll and settle the tasks queue (the event source mapping runs as it) but not send', async () => {
    const authorizer = new IamAuthorizer(model());
    const on = (action: string) =>
      authorizer.authorize({ caller: callerOf('Downloader'), action, resource: tasksQueue().arn });
    await expect(on('sqs:ReceiveMessage')).resolves.toEqual({ allowed: true });
    await expect(on('sqs:DeleteMessage')).resolves.toEqual({ allowed: true });
    await expect(on('sqs:SendMessage')).resolves.toMatchObject({ allowed: false });
    await expect(
      authorizer.authorize({
        caller: callerOf('Planner'),
        action: 'sqs:SendMessage',
        resource: tasksQueue().arn,
      }),
    ).resolves.toEqual({ allowed: true });
  });

  it('lets S3 use the stage key for the downloader: the key policy delegates to IAM', async () => {
    const [key] = model().keys.values();
    if (key === undefined) throw new Error('no key');
    const decision = await new IamAuthorizer(model()).authorize({
      caller: callerOf('Downloader'),
      action: 'kms:GenerateDataKey',
      resource: key.arn,
      context: { 'kms:ViaService': `s3.${TWIN_REGION}.amazonaws.com` },
    });
    expect(decision).toEqual({ allowed: true });
  });

  it('refuses the key to a role that allows it when the key policy does not delegate to the account', async () => {
    const [key] = model().keys.values();
    if (key === undefined) throw new Error('no key');
    const withoutAccount = key.policy.Statement.filter((statement) => statement.Action !== 'kms:*');
    const keys = new Map([[key.logicalId, { ...key, policy: { ...key.policy, Statement: withoutAccount } }]]);
    const decision = await new IamAuthorizer({ ...model(), keys }).authorize({
      caller: callerOf('Downloader'),
      action: 'kms:GenerateDataKey',
      resource: key.arn,
    });
    expect(decision).toMatchObject({ allowed: false, result: 'ImplicitlyDenied' });
  });

  // A backfill's INSERT can exceed Athena's 100 partitions per write; the query runner then reads the table's
  // partition columns with GetTableMetadata before splitting it (services/adapters/aws/athena/query-engine.ts).
  // That action is authorized on the data catalog, not the workgroup
  // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonathena.html).
  it('lets the query runner read table metadata from the data catalog (backfills)', async () => {
    const catalog = `arn:aws:athena:${TWIN_REGION}:${TWIN_ACCOUNT}:datacatalog/AwsDataCatalog`;
    await expect(
      new IamAuthorizer(model()).authorize({
        caller: callerOf('QueryRunner'),
        action: 'athena:GetTableMetadata',
        resource: catalog,
      }),
    ).resolves.toEqual({ allowed: true });
  });

  // The finding of the issue: S3 answers HeadObject on a missing key with 404 only to a caller that may
  // s3:ListBucket, 403 otherwise (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html), and
  // HeadObject itself needs s3:GetObject. The downloader asks whether a page is stored before fetching it.
  it('lets the downloader ask whether a page is stored (s3:GetObject and s3:ListBucket)', async () => {
    const authorizer = new IamAuthorizer(model());
    const raw = bucket('LakeRaw');
    await expect(
      authorizer.authorize({
        caller: callerOf('Downloader'),
        action: 's3:GetObject',
        resource: `${raw.arn}/${pageKey}`,
      }),
    ).resolves.toEqual({ allowed: true });
    await expect(
      authorizer.authorize({
        caller: callerOf('Downloader'),
        action: 's3:ListBucket',
        resource: raw.arn,
        context: { 's3:prefix': pageKey },
      }),
    ).resolves.toEqual({ allowed: true });
  });
});
