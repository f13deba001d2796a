import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { DetailType, EVENT_SOURCE } from '../../../events/index.js';
import { ATHENA_RESULTS_PREFIX } from '../../../infra/constructs/data-lake.js';
import { LAMBDA_RUNTIME } from '../../../infra/lambda-runtime.js';
import { writeShapeOf } from '../../../services/adapters/aws/athena/write-target.js';
import { DRAIN_LEASE_MARGIN_MS } from '../../../services/completion-tracker/track-completion.js';
import { renderPlaceholders, splitStatements } from '../../../services/shared/sql-text.js';
import {
  DATASETS,
  type ServiceName,
  serviceNames,
  subscriptionRuleName,
  topology,
} from '../../../services/topology.js';
import { entryVariables, parsedVariables } from '../helpers/environment.js';
import type { Synthesized } from '../helpers/synth.js';
import {
  arnOf,
  type CfnResource,
  idOf,
  onlyResource,
  propertiesOf,
  ref,
  resourcesOf,
} from '../helpers/template.js';

/**
 * What the template of a stage must say: encryption, TLS, the tasks queue, events, storage, functions, outputs.
 * `stage` returns the synthesized default stage (built once, by tests/infra/default-stage.test.ts); `alarmEmail` is
 * the address it was configured with.
 */
export function templatePropertiesSuite(stage: () => Synthesized, alarmEmail: string): void {
  function resourceOf(construct: IConstruct): CfnResource {
    const resource = stage().template.toJSON().Resources[idOf(construct)] as CfnResource | undefined;
    if (resource === undefined) throw new Error(`${construct.node.path} is not in the template`);
    return resource;
  }

  function fnOf(service: ServiceName) {
    const fn = stage().stack.services.functions.get(service);
    if (fn === undefined) throw new Error(`no function for ${service}`);
    return fn;
  }

  const keyArn = () => arnOf(idOf(stage().stack.encryption.key));
  const dataBuckets = () => [
    stage().stack.lake.raw,
    stage().stack.lake.warehouse,
    stage().stack.lake.results,
  ];
  /** Queues encrypted with the stage key; the bus's own dead-letter queue is the one exception (SQS-managed). */
  const keyQueues = () => [
    stage().stack.tasks.queue,
    stage().stack.tasks.deadLetterQueue,
    stage().stack.deadLetters.undeliveredEvents,
    stage().stack.deadLetters.failedInvocations,
  ];
  const allQueues = () => [...keyQueues(), stage().stack.deadLetters.keyFailures];

  describe('encryption with the stage key', () => {
    it('is one customer-managed key, rotated', () => {
      stage().template.resourceCountIs('AWS::KMS::Key', 1);
      stage().template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    });

    it('encrypts the bus and the archive of its events', () => {
      stage().template.hasResourceProperties('AWS::Events::EventBus', { KmsKeyIdentifier: keyArn() });
      stage().template.hasResourceProperties('AWS::Events::Archive', {
        KmsKeyIdentifier: keyArn(),
        SourceArn: arnOf(idOf(stage().stack.bus.bus)),
        RetentionDays: topology.bus.archiveRetentionDays,
      });
    });

    it('encrypts every queue, the alert topic, the secrets and the run ledger', () => {
      const { template } = stage();
      expect(resourcesOf(template, 'AWS::SQS::Queue')).toHaveLength(allQueues().length);
      for (const queue of keyQueues()) expect(resourceOf(queue).Properties?.KmsMasterKeyId).toEqual(keyArn());
      // Events the key refused cannot go to a queue that needs the same key.
      expect(resourceOf(stage().stack.deadLetters.keyFailures).Properties).toMatchObject({
        SqsManagedSseEnabled: true,
      });
      stage().template.hasResourceProperties('AWS::Events::EventBus', {
        DeadLetterConfig: { Arn: arnOf(idOf(stage().stack.deadLetters.keyFailures)) },
      });
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn() });
      for (const [, secret] of resourcesOf(template, 'AWS::SecretsManager::Secret')) {
        expect(secret.Properties?.KmsKeyId).toEqual(keyArn());
      }
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn() },
      });
    });

    it('encrypts the data buckets with SSE-KMS and S3 Bucket Keys', () => {
      for (const bucket of dataBuckets()) {
        expect(resourceOf(bucket).Properties?.BucketEncryption).toEqual({
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn() },
            },
          ],
        });
      }
    });

    it("encrypts every log group with the stage key, which CloudWatch Logs may use for this account's log groups only", () => {
      const logGroups = resourcesOf(stage().template, 'AWS::Logs::LogGroup');
      expect(logGroups.length).toBeGreaterThan(serviceNames.length);
      for (const [id, logGroup] of logGroups)
        expect({ id, key: logGroup.Properties?.KmsKeyId }).toEqual({ id, key: keyArn() });
      // Logs encrypts with its regional service principal, limited by the encryption context to log groups of
      // this account and region (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
      const [, key] = onlyResource(stage().template, 'AWS::KMS::Key');
      const { Statement } = propertiesOf(key).KeyPolicy as {
        Statement: { Sid?: string; Principal?: unknown; Condition?: unknown }[];
      };
      const logs = Statement.find((statement) => statement.Sid === 'AllowCloudWatchLogsToEncryptLogGroups');
      expect(logs?.Principal).toEqual({
        Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
      });
      expect(logs?.Condition).toEqual({
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':logs:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':log-group:*',
              ],
            ],
          },
        },
      });
    });

    it('lets EventBridge and CloudWatch use the key only on behalf of this account', () => {
      const [, key] = onlyResource(stage().template, 'AWS::KMS::Key');
      const { Statement } = propertiesOf(key).KeyPolicy as {
        Statement: { Sid?: string; Condition?: unknown }[];
      };
      const conditionOf = (sid: string) => Statement.find((statement) => statement.Sid === sid)?.Condition;
      for (const sid of ['AllowEventBridgeToUseEncryptedTargets', 'AllowCloudWatchAlarmsToNotify']) {
        expect(conditionOf(sid)).toEqual({
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        });
      }
      expect(conditionOf('AllowEventBridgeToEncryptTheArchive')).toEqual({
        StringEquals: {
          'aws:SourceAccount': { Ref: 'AWS::AccountId' },
          'kms:EncryptionContext:aws:events:event-bus:arn': expect.objectContaining({
            'Fn::Join': expect.anything(),
          }),
        },
      });
    });
  });

  describe('TLS only and nothing public', () => {
    const deniesPlainHttp = (document: unknown) =>
      expect(document).toMatchObject({
        Statement: expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      });

    it('every bucket, queue and the topic refuse requests without TLS', () => {
      const { template } = stage();
      const policyOf = (type: string, pointer: string, id: string) =>
        resourcesOf(template, type).find(([, policy]) =>
          JSON.stringify(policy.Properties?.[pointer]).includes(`"${id}"`),
        )?.[1].Properties?.PolicyDocument;
      for (const bucket of [...dataBuckets(), stage().stack.lake.accessLogs]) {
        deniesPlainHttp(policyOf('AWS::S3::BucketPolicy', 'Bucket', idOf(bucket)));
      }
      for (const queue of allQueues())
        deniesPlainHttp(policyOf('AWS::SQS::QueuePolicy', 'Queues', idOf(queue)));
      deniesPlainHttp(policyOf('AWS::SNS::TopicPolicy', 'Topics', idOf(stage().stack.alerts.topic)));
    });

    it('blocks public access and ACLs on every bucket', () => {
      const buckets = resourcesOf(stage().template, 'AWS::S3::Bucket');
      expect(buckets).toHaveLength(4);
      for (const [, bucket] of buckets) {
        expect(bucket.Properties?.PublicAccessBlockConfiguration).toEqual({
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        });
        expect(bucket.Properties?.OwnershipControls).toEqual({
          Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
        });
      }
    });

    it('logs access to the data buckets into the access log bucket', () => {
      for (const bucket of dataBuckets()) {
        expect(resourceOf(bucket).Properties?.LoggingConfiguration).toMatchObject({
          DestinationBucketName: ref(idOf(stage().stack.lake.accessLogs)),
        });
      }
    });
  });

  describe('the tasks queue', () => {
    const downloader = () => resourceOf(fnOf('downloader')).Properties ?? {};
    const queue = () => resourceOf(stage().stack.tasks.queue).Properties ?? {};
    const deadLetterQueue = () => resourceOf(stage().stack.tasks.deadLetterQueue).Properties ?? {};

    it('hides a task for at least six times the downloader timeout', () => {
      expect(queue().VisibilityTimeout).toBe(topology.queues.tasks.visibilityTimeoutSeconds);
      expect(Number(queue().VisibilityTimeout)).toBeGreaterThanOrEqual(6 * Number(downloader().Timeout));
    });

    it('moves a task to its dead-letter queue after maxReceiveCount receives, kept longer than the queue', () => {
      expect(queue().RedrivePolicy).toEqual({
        deadLetterTargetArn: arnOf(idOf(stage().stack.tasks.deadLetterQueue)),
        maxReceiveCount: topology.queues.tasks.maxReceiveCount,
      });
      expect(deadLetterQueue().MessageRetentionPeriod).toBe(
        topology.queues.tasks.deadLetterRetentionDays * 86_400,
      );
      expect(Number(deadLetterQueue().MessageRetentionPeriod)).toBeGreaterThan(
        Number(queue().MessageRetentionPeriod),
      );
    });

    it('feeds the downloader in batches with partial failures, at most the rate budget at once', () => {
      const trigger = topology.services.downloader.trigger;
      stage().template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
      stage().template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arnOf(idOf(stage().stack.tasks.queue)),
        FunctionName: ref(idOf(fnOf('downloader'))),
        BatchSize: trigger.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: trigger.maxConcurrency },
      });
    });

    it('tells the downloader the concurrency and receive count it runs under', () => {
      const env = (
        propertiesOf(resourceOf(fnOf('downloader'))).Environment as { Variables: Record<string, unknown> }
      ).Variables;
      expect(env.DOWNLOADER_MAX_CONCURRENCY).toBe(
        String(topology.services.downloader.trigger.maxConcurrency),
      );
      expect(env.MAX_RECEIVE_COUNT).toBe(String(topology.queues.tasks.maxReceiveCount));
    });

    it('alarms to the alert topic as soon as one task is dead-lettered, and the topic emails', () => {
      stage().template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [idOf(stage().stack.tasks.deadLetterQueue), 'QueueName'] },
          },
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [ref(idOf(stage().stack.alerts.topic))],
      });
      stage().template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: alarmEmail,
        TopicArn: ref(idOf(stage().stack.alerts.topic)),
      });
    });

    it('alarms on the event dead-letter queues too', () => {
      const { undeliveredEvents, failedInvocations, keyFailures } = stage().stack.deadLetters;
      for (const queue of [undeliveredEvents, failedInvocations, keyFailures]) {
        stage().template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(queue), 'QueueName'] } }],
          AlarmActions: [ref(idOf(stage().stack.alerts.topic))],
        });
      }
    });
  });

  describe('events', () => {
    const ruleServices = serviceNames.filter((name) => topology.services[name].trigger.kind === 'rule');
    const targetsOf = (rule: CfnResource) =>
      (rule.Properties?.Targets ?? []) as {
        Arn: unknown;
        DeadLetterConfig?: unknown;
        RetryPolicy?: unknown;
        InputTransformer?: { InputPathsMap: Record<string, string>; InputTemplate: string };
      }[];

    it('has one rule on the bus per subscription of the topology, with the topology pattern', () => {
      for (const service of ruleServices) {
        const trigger = topology.services[service].trigger;
        if (trigger.kind !== 'rule') throw new Error('unreachable');
        const rules = resourcesOf(stage().template, 'AWS::Events::Rule').filter(([, rule]) =>
          targetsOf(rule).some(
            (target) => JSON.stringify(target.Arn) === JSON.stringify(arnOf(idOf(fnOf(service)))),
          ),
        );
        expect(rules).toHaveLength(1);
        const [[, rule]] = rules as [[string, CfnResource]];
        expect(rule.Properties?.EventBusName).toEqual(ref(idOf(stage().stack.bus.bus)));
        // `etl replay` finds a consumer's rule by this name.
        expect(rule.Properties?.Name).toBe(subscriptionRuleName('fleet-etl-dev', service));
        expect(rule.Properties?.EventPattern).toEqual(trigger.pattern);
      }
    });

    it('gives every target of every rule a dead-letter queue and a retry policy', () => {
      const rules = resourcesOf(stage().template, 'AWS::Events::Rule');
      // subscriptions + the schedule + the event recorder + failed runs to the topic
      expect(rules).toHaveLength(ruleServices.length + 3);
      for (const [, rule] of rules) {
        for (const target of targetsOf(rule)) {
          expect(target.DeadLetterConfig).toEqual({
            Arn: arnOf(idOf(stage().stack.deadLetters.undeliveredEvents)),
          });
          expect(target.RetryPolicy).toEqual({
            MaximumEventAgeInSeconds: expect.any(Number),
            MaximumRetryAttempts: expect.any(Number),
          });
        }
      }
    });

    it('starts the planners at 01:00 UTC, one input per dataset carrying the scheduled time', () => {
      const trigger = topology.services.planner.trigger;
      expect(trigger.expression).toBe('cron(0 1 * * ? *)');
      const [[, schedule], ...others] = resourcesOf(stage().template, 'AWS::Events::Rule').filter(
        ([, rule]) => rule.Properties?.ScheduleExpression !== undefined,
      ) as [[string, CfnResource]];
      expect(others).toHaveLength(0);
      expect(schedule.Properties?.ScheduleExpression).toBe(trigger.expression);
      const targets = targetsOf(schedule);
      expect(targets).toHaveLength(DATASETS.length);
      for (const [index, dataset] of DATASETS.entries()) {
        const target = targets[index];
        expect(target?.Arn).toEqual(arnOf(idOf(fnOf('planner'))));
        expect(target?.InputTransformer?.InputPathsMap).toEqual({ time: '$.time' });
        const rendered = target?.InputTransformer?.InputTemplate.replace('<time>', '"2026-11-25T01:00:00Z"');
        expect(JSON.parse(rendered ?? '')).toEqual({ dataset, time: '2026-11-25T01:00:00Z' });
      }
    });

    it('sends EtlDone and EtlFailed, replays included, to the report, which is told the run ledger', () => {
      const rules = resourcesOf(stage().template, 'AWS::Events::Rule').filter(
        ([, rule]) =>
          propertiesOf(rule).Name !== undefined &&
          JSON.stringify(propertiesOf(rule).Name).includes('-report'),
      );
      expect(rules.map(([, rule]) => propertiesOf(rule).EventPattern)).toEqual([
        { source: [EVENT_SOURCE], 'detail-type': [DetailType.EtlDone, DetailType.EtlFailed] },
      ]);
      const environment = propertiesOf(resourceOf(fnOf('report'))).Environment as {
        Variables: Record<string, unknown>;
      };
      expect(environment.Variables.RUN_LEDGER_TABLE).toEqual(ref(idOf(stage().stack.ledger.table)));
    });

    it('sends every EtlFailed event to the alert topic with the run, stage and reason', () => {
      stage().template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: [EVENT_SOURCE],
          'detail-type': [DetailType.EtlFailed],
          'replay-name': [{ exists: false }],
        },
        Targets: [
          Match.objectLike({
            Arn: ref(idOf(stage().stack.alerts.topic)),
            InputTransformer: {
              InputPathsMap: {
                'detail-runId': '$.detail.runId',
                'detail-stage': '$.detail.stage',
                'detail-reason': '$.detail.reason',
              },
              InputTemplate: Match.stringLikeRegexp(
                'run <detail-runId> failed in <detail-stage>: <detail-reason>',
              ),
            },
          }),
        ],
      });
    });

    it("lets the completion tracker's drained claim lapse before Lambda's first retry of a tracker that died", () => {
      // The claim lasts until the claimant's invocation has certainly ended (its timeout) plus a margin; Lambda
      // retries a failed asynchronous invocation one minute after it ended
      // (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html), and that retry
      // must find the claim lapsed to take it over (decision 77).
      const timeoutMs = Number(propertiesOf(resourceOf(fnOf('completionTracker'))).Timeout) * 1000;
      expect(timeoutMs).toBe(topology.services.completionTracker.timeoutSeconds * 1000);
      expect(timeoutMs + DRAIN_LEASE_MARGIN_MS).toBeLessThan(60_000);
    });

    it('retries failed asynchronous invocations twice, then keeps them in a queue', () => {
      const asyncServices = serviceNames.filter((name) => topology.services[name].trigger.kind !== 'queue');
      for (const service of asyncServices) {
        stage().template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
          FunctionName: ref(idOf(fnOf(service))),
          MaximumRetryAttempts: 2,
          DestinationConfig: {
            OnFailure: { Destination: arnOf(idOf(stage().stack.deadLetters.failedInvocations)) },
          },
        });
      }
    });
  });

  describe('storage and analytics', () => {
    it('expires Athena output, keeps reports', () => {
      const rules = (
        propertiesOf(resourceOf(stage().stack.lake.results)).LifecycleConfiguration as {
          Rules: { Prefix?: string; ExpirationInDays?: number }[];
        }
      ).Rules;
      expect(rules).toContainEqual(
        expect.objectContaining({ Prefix: ATHENA_RESULTS_PREFIX, ExpirationInDays: 365, Status: 'Enabled' }),
      );
      expect(rules.filter((rule) => rule.ExpirationInDays !== undefined)).toHaveLength(1);
    });

    it('has a workgroup that enforces encrypted results in the results bucket', () => {
      stage().template.hasResourceProperties('AWS::Athena::WorkGroup', {
        Name: 'fleet-etl-dev',
        WorkGroupConfiguration: Match.objectLike({
          EnforceWorkGroupConfiguration: true,
          ResultConfiguration: {
            OutputLocation: {
              'Fn::Join': ['', ['s3://', ref(idOf(stage().stack.lake.results)), `/${ATHENA_RESULTS_PREFIX}`]],
            },
            EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: keyArn() },
            ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
          },
        }),
      });
    });

    it('runs no SQL file that gives a CTAS an external_location, which its enforced workgroup would fail', () => {
      // Athena fails a CTAS with external_location in a workgroup that enforces its settings, and puts one
      // without it under the workgroup's result location (https://docs.aws.amazon.com/athena/latest/ug/considerations-ctas.html):
      // the warehouse tables are Hive DDL with their own LOCATION instead (docs/decisions/0076).
      const [, workGroup] = onlyResource(stage().template, 'AWS::Athena::WorkGroup');
      expect(propertiesOf(workGroup).WorkGroupConfiguration).toMatchObject({
        EnforceWorkGroupConfiguration: true,
      });
      const queries = join(process.cwd(), 'queries');
      const values = {
        database: 'fleet_etl_dev',
        raw_location: 's3://raw',
        warehouse_location: 's3://warehouse',
        run_id: '2026-11-24',
        run_date: '2026-11-24',
      };
      const statements = readdirSync(queries)
        .filter((name) => name.endsWith('.sql'))
        .flatMap((name) =>
          splitStatements(renderPlaceholders(readFileSync(join(queries, name), 'utf8'), values)),
        );
      const ctas = statements.filter((sql) => writeShapeOf(sql)?.kind === 'ctas');
      expect(ctas.filter((sql) => /\bexternal_location\b/i.test(sql))).toEqual([]);
      // The run's Parquet copy of its raw readings (docs/decisions/0097), vehicles_data, sensor_data and the answer's
      // per-vehicle-day summary (docs/decisions/0088).
      expect(
        statements.filter((sql) => /^CREATE EXTERNAL TABLE\b.*\sSTORED AS PARQUET\s/s.test(sql)),
      ).toHaveLength(4);
    });

    it('has the Glue database the query runner is told about', () => {
      stage().template.hasResourceProperties('AWS::Glue::Database', {
        DatabaseInput: Match.objectLike({ Name: 'fleet_etl_dev' }),
      });
    });

    it('keys the run ledger by pk and sk strings, with point-in-time recovery', () => {
      stage().template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    });

    it('retains data when the stack is deleted (default removal policy)', () => {
      for (const construct of [...dataBuckets(), stage().stack.ledger.table, stage().stack.encryption.key]) {
        expect(stage().template.toJSON().Resources[idOf(construct)].DeletionPolicy).toBe('Retain');
      }
    });
  });

  describe('functions', () => {
    it('are one per service, with the runtime, arm64, timeout and memory of the topology, traced', () => {
      stage().template.resourceCountIs('AWS::Lambda::Function', serviceNames.length);
      for (const service of serviceNames) {
        const declaration = topology.services[service];
        expect(resourceOf(fnOf(service)).Properties).toMatchObject({
          Runtime: LAMBDA_RUNTIME.name,
          Architectures: ['arm64'],
          Handler: 'index.handler',
          Timeout: declaration.timeoutSeconds,
          MemorySize: declaration.memoryMb,
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: expect.objectContaining({ LogFormat: 'JSON' }),
        });
      }
    });

    it('log into their own log group with a retention', () => {
      for (const service of serviceNames) {
        const logGroup = (
          propertiesOf(resourceOf(fnOf(service))).LoggingConfig as { LogGroup: { Ref: string } }
        ).LogGroup;
        expect(stage().template.toJSON().Resources[logGroup.Ref].Properties.RetentionInDays).toBe(30);
      }
    });

    it('get secrets by ARN, never a value', () => {
      const secretArn = ref(idOf(stage().stack.secrets.fleetApiClientSecret));
      for (const service of ['planner', 'downloader'] as const) {
        const env = (
          propertiesOf(resourceOf(fnOf(service))).Environment as { Variables: Record<string, unknown> }
        ).Variables;
        expect(env.FLEET_API_SECRET_ID).toEqual(secretArn);
      }
      // No resource carries a secret value (only the generated placeholder's settings).
      expect(JSON.stringify(stage().template.toJSON()).includes('"SecretString"')).toBe(false);
      stage().template.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: Match.anyValue(),
      });
    });

    it('are given the variables their Lambda entry parses, under its names, the required ones all', () => {
      for (const service of serviceNames) {
        const variables = (
          propertiesOf(resourceOf(fnOf(service))).Environment as { Variables: Record<string, unknown> }
        ).Variables;
        const set = entryVariables(variables);
        const parsed = parsedVariables(topology.services[service]);
        expect({ service, unread: set.filter((name) => !parsed.names.includes(name)) }).toEqual({
          service,
          unread: [],
        });
        expect({ service, missing: parsed.required.filter((name) => !set.includes(name)) }).toEqual({
          service,
          missing: [],
        });
      }
    });

    it('have no role of their own with AWS managed policies', () => {
      for (const [, role] of resourcesOf(stage().template, 'AWS::IAM::Role')) {
        expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
      }
    });
  });

  describe('the event contracts', () => {
    it('are published in a schema registry, one draft-4 schema per detail-type, generated from the zod schemas', () => {
      const template = stage().template;
      template.resourceCountIs('AWS::EventSchemas::Registry', 1);
      const schemas = resourcesOf(template, 'AWS::EventSchemas::Schema').map(([, r]) => propertiesOf(r));
      const byName = new Map(schemas.map((p) => [String(p.SchemaName), p]));
      expect([...byName.keys()].sort()).toEqual(
        Object.values(DetailType)
          .map((d) => `${EVENT_SOURCE}@${d}`)
          .sort(),
      );
      for (const [name, properties] of byName) {
        expect(properties.Type).toBe('JSONSchemaDraft4');
        const content = JSON.parse(String(properties.Content));
        expect(content.$schema).toBe('http://json-schema.org/draft-04/schema#');
        expect(content.properties.source).toEqual(expect.objectContaining({ enum: [EVENT_SOURCE] }));
        expect(name).toContain(content.title);
      }
    });
  });

  describe('outputs', () => {
    it('name what an operator needs after deploying', () => {
      const outputs = Object.keys(stage().template.toJSON().Outputs);
      expect(outputs).toEqual(
        expect.arrayContaining([
          'EventBusName',
          'EventBusArn',
          'ArchiveArn',
          'TasksQueueUrl',
          'RawBucketName',
          'WarehouseBucketName',
          'ResultsBucketName',
          'RunLedgerTableName',
          'GlueDatabaseName',
          'AthenaWorkGroupName',
          'FleetApiSecretArn',
          'AlertTopicArn',
          'DashboardUrl',
          'PlannerFunctionName',
          'QueryRunnerFunctionName',
        ]),
      );
    });
  });
}
