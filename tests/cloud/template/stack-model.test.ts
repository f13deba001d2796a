// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} is the Fn::Sub syntax under test, not a template.
import { topology } from '../../../services/topology.js';
import { scheduledEvent, targetPayload } from '../../../twin/events/target-input.js';
import { UnresolvableTemplateValueError } from '../../../twin/template/errors.js';
import { IntrinsicResolver } from '../../../twin/template/intrinsics.js';
import { functionOfConstruct, roleOf } from '../../../twin/template/stack-model.js';
import { TWIN_ACCOUNT, TWIN_REGION } from '../../../twin/twin-account.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';

let stack: TwinStack;

beforeAll(() => {
  stack = synthesizeTwinStack({ bundle: true });
}, 120_000);

afterAll(() => discardTwinStack(stack));

const model = () => stack.model;
const onlyOf = <T>(items: Iterable<T>, predicate: (item: T) => boolean): T => {
  const found = [...items].filter(predicate);
  if (found.length !== 1 || found[0] === undefined) throw new Error(`expected one, found ${found.length}`);
  return found[0];
};
const rawBucket = () => onlyOf(model().buckets.values(), (b) => b.logicalId.startsWith('LakeRaw'));
const tasksQueue = () => onlyOf(model().queues.values(), (q) => q.logicalId.startsWith('TasksQueue'));

describe('the twin reads the synthesized stack', () => {
  it('finds the five functions with their handler, limits and bundle folder', () => {
    expect(model().functions.size).toBe(5);
    const downloader = functionOfConstruct(model(), 'Services/Downloader');
    expect(downloader).toMatchObject({
      handler: 'index.handler',
      timeoutSeconds: topology.services.downloader.timeoutSeconds,
      memoryMb: topology.services.downloader.memoryMb,
      arn: `arn:aws:lambda:${TWIN_REGION}:${TWIN_ACCOUNT}:function:${downloader.name}`,
    });
    expect(downloader.assetDir).toMatch(/\/asset\.[0-9a-f]{64}$/);
  });

  it('resolves a function environment to the physical names of the resources it points at', () => {
    const env = functionOfConstruct(model(), 'Services/Downloader').environment;
    expect(env.RAW_BUCKET).toBe(rawBucket().name);
    expect(env.FLEET_API_SECRET_ID).toMatch(
      new RegExp(
        `^arn:aws:secretsmanager:${TWIN_REGION}:${TWIN_ACCOUNT}:secret:fleet-etl/dev/fleet-api-client-secret-\\w{6}$`,
      ),
    );
    expect(env.EVENT_BUS_NAME).toBe('fleet-etl-dev');
    expect(functionOfConstruct(model(), 'Services/Planner').environment.TASKS_QUEUE_URL).toBe(
      tasksQueue().url,
    );
  });

  it('gives each function its own role with its policies resolved to ARNs', () => {
    const role = roleOf(model(), functionOfConstruct(model(), 'Services/Downloader'));
    expect(role.arn).toBe(`arn:aws:iam::${TWIN_ACCOUNT}:role/${role.name}`);
    expect(role.managedPolicyArns).toEqual([]);
    const statements = role.policies.flatMap((policy) => policy.document.Statement);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: expect.arrayContaining(['s3:PutObject']),
        Resource: `${rawBucket().arn}/*`,
      }),
    );
    const roles = new Set([...model().functions.values()].map((fn) => fn.roleLogicalId));
    expect(roles.size).toBe(5);
  });

  it('reads the resource policies: TLS-only buckets and queues, the key policy', () => {
    expect(rawBucket().policy?.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(tasksQueue().policy?.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Resource: tasksQueue().arn }),
    );
    const [key] = model().keys.values();
    expect(key?.policy.Statement).toContainEqual(
      expect.objectContaining({ Principal: { AWS: `arn:aws:iam::${TWIN_ACCOUNT}:root` }, Action: 'kms:*' }),
    );
  });

  it('reads the tasks queue, its dead-letter queue and the mapping that feeds the downloader', () => {
    const queue = tasksQueue();
    const dlq = onlyOf(model().queues.values(), (q) => q.arn === queue.redrive?.deadLetterTargetArn);
    expect(dlq.logicalId).toMatch(/^TasksDeadLetterQueue/);
    expect(queue.redrive?.maxReceiveCount).toBe(topology.queues.tasks.maxReceiveCount);
    expect(queue.url).toBe(`https://sqs.${TWIN_REGION}.amazonaws.com/${TWIN_ACCOUNT}/${queue.name}`);
    const trigger = topology.services.downloader.trigger;
    expect(model().queueMappings).toEqual([
      expect.objectContaining({
        functionLogicalId: functionOfConstruct(model(), 'Services/Downloader').logicalId,
        queueArn: queue.arn,
        batchSize: trigger.batchSize,
        maximumConcurrency: trigger.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    ]);
  });
});

describe('the schedule', () => {
  it("fires the planner once per dataset, shaping the scheduled event with each target's input transformer", () => {
    const planner = functionOfConstruct(model(), 'Services/Planner');
    const targets = model().scheduleTargets.filter((t) => t.functionLogicalId === planner.logicalId);
    expect(targets.map((t) => t.scheduleExpression)).toEqual(['cron(0 1 * * ? *)', 'cron(0 1 * * ? *)']);
    const fired = new Date('2026-11-25T01:00:00.000Z');
    const payloads = targets.map((target) =>
      targetPayload(
        target.input,
        scheduledEvent({ time: fired, ruleArn: target.ruleArn, account: TWIN_ACCOUNT, region: TWIN_REGION }),
      ),
    );
    expect(payloads).toEqual([
      { dataset: 'vehicles', time: '2026-11-25T01:00:00Z' },
      { dataset: 'sensors', time: '2026-11-25T01:00:00Z' },
    ]);
  });
});

describe('the intrinsic resolver', () => {
  const template = {
    Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'q' } } },
    Parameters: { Stage: { Default: 'dev' } },
  };
  const resolver = new IntrinsicResolver(template, 'stack');

  it('substitutes references, attributes, parameters and escapes in Fn::Sub', () => {
    expect(resolver.string({ 'Fn::Sub': '${Queue.Arn}|${Queue}|${Stage}|${!Literal}|${AWS::Region}' })).toBe(
      `arn:aws:sqs:${TWIN_REGION}:${TWIN_ACCOUNT}:q|https://sqs.${TWIN_REGION}.amazonaws.com/${TWIN_ACCOUNT}/q|dev|\${Literal}|${TWIN_REGION}`,
    );
    expect(resolver.string({ 'Fn::Sub': ['${X}-${AWS::AccountId}', { X: { Ref: 'Stage' } }] })).toBe(
      `dev-${TWIN_ACCOUNT}`,
    );
    expect(resolver.string({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] })).toBe('b');
  });

  it('refuses what it cannot resolve exactly', () => {
    expect(() => resolver.resolve({ 'Fn::ImportValue': 'x' })).toThrow(UnresolvableTemplateValueError);
    expect(() => resolver.resolve({ Ref: 'Missing' })).toThrow(UnresolvableTemplateValueError);
    expect(() => resolver.resolve({ 'Fn::GetAtt': ['Queue', 'Nope'] })).toThrow(
      UnresolvableTemplateValueError,
    );
  });
});

describe('the bus, its rules and the run ledger', () => {
  it("reads each subscription's rule on the custom bus: its pattern, its function target, retry policy and DLQ", () => {
    const tracker = functionOfConstruct(model(), 'Services/CompletionTracker');
    const bus = onlyOf(model().eventBuses.values(), () => true);
    const rule = onlyOf(model().eventRules, (r) =>
      r.targets.some((t) => t.functionLogicalId === tracker.logicalId),
    );
    expect(rule).toMatchObject({
      busArn: bus.arn,
      // A rule on a custom bus has the bus in its ARN.
      arn: `arn:aws:events:${TWIN_REGION}:${TWIN_ACCOUNT}:rule/${bus.name}/${rule.name}`,
      enabled: true,
      pattern: { source: ['fleet-etl'], 'replay-name': [{ exists: false }] },
    });
    expect(rule.targets).toEqual([
      expect.objectContaining({
        arn: tracker.arn,
        input: { kind: 'event' },
        retry: { maximumEventAgeSeconds: 21_600, maximumRetryAttempts: 20 },
        deadLetterArn: expect.stringMatching(/^arn:aws:sqs:/),
      }),
    ]);
    expect(model().lambdaPermissions).toContainEqual(
      expect.objectContaining({
        functionArn: tracker.arn,
        action: 'lambda:InvokeFunction',
        principal: 'events.amazonaws.com',
        sourceArn: rule.arn,
      }),
    );
    expect(model().asyncInvokeConfigs).toContainEqual({
      functionLogicalId: tracker.logicalId,
      maximumRetryAttempts: 2,
      maximumEventAgeSeconds: 21_600,
      onFailureArn: onlyOf(model().queues.values(), (q) =>
        q.logicalId.startsWith('DeadLettersFailedInvocations'),
      ).arn,
    });
    expect(model().archives).toEqual([
      expect.objectContaining({ busArn: bus.arn, pattern: { account: [TWIN_ACCOUNT] } }),
    ]);
  });

  it('reads the run ledger table and its keys', () => {
    const table = onlyOf(model().tables.values(), () => true);
    expect(table.arn).toBe(`arn:aws:dynamodb:${TWIN_REGION}:${TWIN_ACCOUNT}:table/${table.name}`);
    expect(table.keySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });
});
