import { NOT_AUTHORIZED_FOR_DETAIL_TYPE } from '../../../twin/front/aws-front.js';
import { fireTimeOf } from '../../../twin/night/fire-time.js';
import { findingOf, serviceRefusalsIn } from '../../../twin/night/suggested-grants.js';

const SESSION =
  'arn:aws:sts::123456789012:assumed-role/fleet-etl-dev-DownloaderRole/fleet-etl-dev-downloader';
const call = (action: string, resource: string, message: string) => ({
  role: 'ServicesDownloaderRole8EDBA713',
  session: 'fleet-etl-dev-downloader',
  action,
  resource,
  message,
});
/** The authorizer's wording for each kind of refusal (twin/iam/iam-authorizer.ts, AWS's own). */
const implicit = (action: string, resource: string) =>
  `User: ${SESSION} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
const explicit = (action: string, resource: string) =>
  `User: ${SESSION} is not authorized to perform: ${action} on resource: ${resource} with an explicit deny in a resource-based policy or an identity-based policy`;

describe('the grant that would allow a refused call', () => {
  it('is an Allow of exactly the refused action on exactly the refused resource', () => {
    const object = 'arn:aws:s3:::fleet-etl-dev-raw/sensors/run=2026-11-24/page-00001.ndjson';
    expect(findingOf(call('s3:PutObject', object, implicit('s3:PutObject', object)))).toEqual({
      kind: 'missing-grant',
      call: expect.objectContaining({ action: 's3:PutObject', resource: object }),
      statement: { Effect: 'Allow', Action: 's3:PutObject', Resource: object },
    });
  });

  it('says, for a KMS key, that the key policy must let IAM policies grant it', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    const finding = findingOf(call('kms:GenerateDataKey', key, implicit('kms:GenerateDataKey', key)));
    expect(finding).toMatchObject({
      kind: 'missing-grant',
      statement: { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: key },
      note: expect.stringMatching(/key policy/),
    });
  });

  it('is none for an explicit Deny: no Allow overrides it', () => {
    const bucket = 'arn:aws:s3:::fleet-etl-dev-raw/x';
    expect(findingOf(call('s3:GetObject', bucket, explicit('s3:GetObject', bucket)))).toEqual({
      kind: 'explicit-deny',
      call: expect.objectContaining({ action: 's3:GetObject' }),
    });
  });

  it('is none for an entry of a detail-type the service does not declare: its entry must change, not its grant', () => {
    const bus = 'arn:aws:events:eu-west-1:123456789012:event-bus/fleet-etl-dev';
    expect(
      findingOf(call('events:PutEvents', bus, `${NOT_AUTHORIZED_FOR_DETAIL_TYPE} (detail-type EtlDone)`)),
    ).toEqual({ kind: 'undeclared-detail-type', call: expect.objectContaining({ resource: bus }) });
  });

  it('is none for what the twin does not emulate: that is the twin, not the deployment', () => {
    const workgroup = 'arn:aws:athena:eu-west-1:123456789012:workgroup/fleet-etl-dev';
    expect(
      findingOf(
        call(
          'athena:StartQueryExecution',
          workgroup,
          'the cloud twin does not emulate athena yet (twin/README.md)',
        ),
      ),
    ).toEqual({ kind: 'not-emulated', call: expect.objectContaining({ resource: workgroup }) });
  });
});

describe("the resource-policy statements for EventBridge's refused deliveries", () => {
  const rule = 'arn:aws:events:eu-west-1:123456789012:rule/fleet-etl-dev/fleet-etl-dev-tracker';
  const fn = 'arn:aws:lambda:eu-west-1:123456789012:function:fleet-etl-dev-tracker';
  const dlq = 'arn:aws:sqs:eu-west-1:123456789012:fleet-etl-dev-undelivered';
  const refused = (action: string, resource: string) =>
    `The service events.amazonaws.com is not authorized to perform: ${action} on resource: ${resource} for ${rule}: no resource-based policy allows it`;

  it("names the service principal and the rule as the source, for the invocation and for the dead-letter queue's refusal appended to it", () => {
    expect(
      serviceRefusalsIn(`${refused('lambda:InvokeFunction', fn)}; ${refused('sqs:SendMessage', dlq)}`),
    ).toEqual([
      {
        service: 'events.amazonaws.com',
        action: 'lambda:InvokeFunction',
        resource: fn,
        sourceArn: rule,
        statement: {
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'lambda:InvokeFunction',
          Resource: fn,
          Condition: { ArnEquals: { 'aws:SourceArn': rule } },
        },
      },
      expect.objectContaining({ action: 'sqs:SendMessage', resource: dlq }),
    ]);
  });

  it('puts "*" (the key itself) as the resource of a key policy statement', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    const [grant] = serviceRefusalsIn(refused('kms:Decrypt', key));
    expect(grant?.statement.Resource).toBe('*');
  });

  it('finds nothing in a message that is not a refusal', () => {
    expect(serviceRefusalsIn('Task timed out after 3.00 seconds')).toEqual([]);
  });
});

describe('when the schedule fires for a night', () => {
  it("is the cron's first firing on the morning after", () => {
    expect(fireTimeOf('2026-11-24', 'cron(0 1 * * ? *)')).toEqual({
      time: new Date('2026-11-25T01:00:00.000Z'),
      fromCron: true,
    });
    // Midnight itself is the morning after: its window is the night before.
    expect(fireTimeOf('2026-12-31', 'cron(0 0 * * ? *)').time).toEqual(new Date('2027-01-01T00:00:00.000Z'));
    // A weekly schedule fires on its day, later.
    expect(fireTimeOf('2026-11-24', 'cron(30 2 ? * MON *)').time).toEqual(
      new Date('2026-11-30T02:30:00.000Z'),
    );
  });

  it('is 01:00 UTC the morning after for a rate, which has no time of day, and says so', () => {
    expect(fireTimeOf('2026-11-24', 'rate(1 day)')).toEqual({
      time: new Date('2026-11-25T01:00:00.000Z'),
      fromCron: false,
    });
  });

  it('refuses what is not a day', () => {
    expect(() => fireTimeOf('2026-13-40', 'cron(0 1 * * ? *)')).toThrow(RangeError);
    expect(() => fireTimeOf('yesterday', 'cron(0 1 * * ? *)')).toThrow(RangeError);
  });
});
