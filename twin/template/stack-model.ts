import * as z from 'zod';
import { glueDatabasesOf, type TwinGlueDatabase, type TwinWorkGroup, workGroupsOf } from './analytics.js';
import { type AssemblyStack, readAssemblyStack, type StackTemplate } from './cloud-assembly.js';
import { InvalidTemplateError } from './errors.js';
import {
  type EventRouting,
  eventRoutingOf,
  type TwinArchive,
  type TwinAsyncInvokeConfig,
  type TwinEventRule,
  type TwinLambdaPermission,
  type TwinScheduledRule,
  type TwinScheduleTarget,
} from './event-routing.js';
import { IntrinsicResolver, type Resolved } from './intrinsics.js';
import type { ServiceEndpoints } from './physical-names.js';
import { type PolicyDocument, PolicyDocumentSchema } from './policy-document.js';
import { type TwinTable, tablesOf } from './tables.js';

export type { TwinGlueDatabase, TwinWorkGroup } from './analytics.js';
export type {
  TargetInput,
  TwinArchive,
  TwinAsyncInvokeConfig,
  TwinEventRule,
  TwinLambdaPermission,
  TwinRuleTarget,
  TwinScheduledRule,
  TwinScheduleTarget,
} from './event-routing.js';
export type { TwinTable } from './tables.js';

/** A Lambda function as the template deploys it: its bundle, environment, limits and role. */
export interface TwinFunction {
  logicalId: string;
  name: string;
  arn: string;
  runtime: string;
  /** `index.handler`: the file (without extension) in the asset folder and its export. */
  handler: string;
  /** The bundle's folder in the cloud assembly (`asset.<hash>`). */
  assetDir: string;
  environment: Readonly<Record<string, string>>;
  /** CloudFormation's defaults when the template omits them: 3 s and 128 MB. */
  timeoutSeconds: number;
  memoryMb: number;
  roleLogicalId: string;
}

export interface TwinPolicy {
  /** The policy's name, or its logical id for an AWS::IAM::Policy. */
  name: string;
  document: PolicyDocument;
}

export interface TwinRole {
  logicalId: string;
  name: string;
  arn: string;
  /** Inline policies and every AWS::IAM::Policy attached to the role. */
  policies: readonly TwinPolicy[];
  /** Managed policy ARNs: the twin cannot read AWS managed policies, so a role with any fails to load. */
  managedPolicyArns: readonly string[];
}

export interface TwinBucket {
  logicalId: string;
  name: string;
  arn: string;
  /** The KMS key of the bucket's default SSE-KMS encryption: S3 calls it with the caller's permissions. */
  encryptionKeyArn: string | undefined;
  policy: PolicyDocument | undefined;
}

export interface TwinSecret {
  logicalId: string;
  name: string;
  arn: string;
  kmsKeyArn: string | undefined;
}

export interface TwinEventBus {
  logicalId: string;
  name: string;
  arn: string;
  /** The customer managed key EventBridge encrypts the bus's events with, using its own service principal. */
  kmsKeyArn: string | undefined;
  /** Where EventBridge puts events it cannot encrypt or decrypt while processing them on the bus. */
  deadLetterArn: string | undefined;
}

export interface TwinQueue {
  logicalId: string;
  name: string;
  url: string;
  arn: string;
  visibilityTimeoutSeconds: number;
  messageRetentionSeconds: number;
  redrive: { deadLetterTargetArn: string; maxReceiveCount: number } | undefined;
  kmsKeyArn: string | undefined;
  policy: PolicyDocument | undefined;
}

export interface TwinKey {
  logicalId: string;
  arn: string;
  policy: PolicyDocument;
}

/** An SQS event source mapping: which queue feeds which function, how. */
export interface TwinQueueMapping {
  logicalId: string;
  functionLogicalId: string;
  queueArn: string;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  maximumConcurrency: number | undefined;
  reportBatchItemFailures: boolean;
}

/**
 * What the twin needs of a synthesized stack, every value resolved against the twin's account. The template is
 * the only source: nothing here is read from services/topology.ts, so whatever the CDK app forgets, the twin lacks.
 */
export interface StackModel {
  stackName: string;
  assemblyDir: string;
  functions: ReadonlyMap<string, TwinFunction>;
  roles: ReadonlyMap<string, TwinRole>;
  buckets: ReadonlyMap<string, TwinBucket>;
  queues: ReadonlyMap<string, TwinQueue>;
  keys: ReadonlyMap<string, TwinKey>;
  secrets: ReadonlyMap<string, TwinSecret>;
  eventBuses: ReadonlyMap<string, TwinEventBus>;
  queueMappings: readonly TwinQueueMapping[];
  scheduleTargets: readonly TwinScheduleTarget[];
  /** Rules with an event pattern, on the template's buses. */
  eventRules: readonly TwinEventRule[];
  scheduledRules: readonly TwinScheduledRule[];
  archives: readonly TwinArchive[];
  /** The functions' resource policies, statement by statement. */
  lambdaPermissions: readonly TwinLambdaPermission[];
  asyncInvokeConfigs: readonly TwinAsyncInvokeConfig[];
  tables: ReadonlyMap<string, TwinTable>;
  /** Athena workgroups and the Glue databases the template creates. */
  workGroups: ReadonlyMap<string, TwinWorkGroup>;
  glueDatabases: ReadonlyMap<string, TwinGlueDatabase>;
  resolver: IntrinsicResolver;
}

const LambdaFunctionSchema = z.object({
  Handler: z.string(),
  Runtime: z.string(),
  Role: z.string(),
  Timeout: z.number().int().positive().default(3),
  MemorySize: z.number().int().positive().default(128),
  Environment: z.object({ Variables: z.record(z.string(), z.string()).default({}) }).optional(),
  Code: z.object({ S3Key: z.string() }),
});

const RoleSchema = z.object({
  Policies: z.array(z.object({ PolicyName: z.string(), PolicyDocument: PolicyDocumentSchema })).default([]),
  ManagedPolicyArns: z.array(z.string()).default([]),
});

const PolicySchema = z.object({
  PolicyDocument: PolicyDocumentSchema,
  Roles: z.array(z.string()).default([]),
});

const QueueSchema = z.object({
  VisibilityTimeout: z.coerce.number().int().min(0).default(30),
  MessageRetentionPeriod: z.coerce.number().int().positive().default(345_600),
  KmsMasterKeyId: z.string().optional(),
  RedrivePolicy: z
    .object({ deadLetterTargetArn: z.string(), maxReceiveCount: z.coerce.number().int().positive() })
    .optional(),
});

const MappingSchema = z.object({
  EventSourceArn: z.string(),
  FunctionName: z.string(),
  BatchSize: z.number().int().positive().default(10),
  MaximumBatchingWindowInSeconds: z.number().int().min(0).default(0),
  FunctionResponseTypes: z.array(z.string()).default([]),
  ScalingConfig: z.object({ MaximumConcurrency: z.number().int().positive().optional() }).optional(),
});

const BucketSchema = z.object({
  BucketEncryption: z
    .object({
      ServerSideEncryptionConfiguration: z.array(
        z.object({
          ServerSideEncryptionByDefault: z
            .object({ SSEAlgorithm: z.string(), KMSMasterKeyID: z.string().optional() })
            .optional(),
        }),
      ),
    })
    .optional(),
});
const SecretSchema = z.object({ KmsKeyId: z.string().optional() });
const EventBusSchema = z.object({
  KmsKeyIdentifier: z.string().optional(),
  DeadLetterConfig: z.object({ Arn: z.string() }).optional(),
});

const BucketPolicySchema = z.object({ Bucket: z.string(), PolicyDocument: PolicyDocumentSchema });
const QueuePolicySchema = z.object({ Queues: z.array(z.string()), PolicyDocument: PolicyDocumentSchema });
const KeySchema = z.object({ KeyPolicy: PolicyDocumentSchema });

/** The logical id a `Fn::GetAtt [id, Arn]` names, read before resolution. */
function getAttTarget(value: unknown): string | undefined {
  const getAtt = typeof value === 'object' && value !== null ? Reflect.get(value, 'Fn::GetAtt') : undefined;
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
}

function refTarget(value: unknown): string | undefined {
  const ref = typeof value === 'object' && value !== null ? Reflect.get(value, 'Ref') : undefined;
  return typeof ref === 'string' ? ref : undefined;
}

/** Builds the twin's model of one stack of a cloud assembly. */
export function loadStackModel(
  assemblyDir: string,
  options: { stackName?: string; endpoints?: ServiceEndpoints } = {},
): StackModel {
  return stackModelOf(readAssemblyStack(assemblyDir, options.stackName), options.endpoints);
}

function stackModelOf(stack: AssemblyStack, endpoints: ServiceEndpoints = {}): StackModel {
  const { template } = stack;
  const resolver = new IntrinsicResolver(template, stack.stackName, endpoints);
  const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  const parse = <S extends z.ZodType>(schema: S, logicalId: string, value: Resolved): z.infer<S> => {
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      throw new InvalidTemplateError(`${logicalId}: ${z.prettifyError(parsed.error)}`, {
        cause: parsed.error,
      });
    return parsed.data;
  };
  const propsOf = (resource: StackTemplate['Resources'][string]) =>
    resolver.resolve(resource.Properties ?? {});

  const policiesByRole = new Map<string, TwinPolicy[]>();
  for (const [id, resource] of ofType('AWS::IAM::Policy')) {
    const rawRoles = resource.Properties?.Roles;
    const policy = parse(PolicySchema, id, propsOf(resource));
    for (const role of Array.isArray(rawRoles) ? rawRoles : []) {
      const roleId = refTarget(role);
      if (roleId === undefined)
        throw new InvalidTemplateError(`${id}: attached to a role the stack does not own`);
      policiesByRole.set(roleId, [
        ...(policiesByRole.get(roleId) ?? []),
        { name: id, document: policy.PolicyDocument },
      ]);
    }
  }
  const roles = new Map<string, TwinRole>();
  for (const [id, resource] of ofType('AWS::IAM::Role')) {
    const props = parse(RoleSchema, id, propsOf(resource));
    const physical = resolver.physical(id);
    roles.set(id, {
      logicalId: id,
      name: physical.ref,
      arn: physical.attributes.Arn ?? '',
      policies: [
        ...props.Policies.map((p) => ({ name: p.PolicyName, document: p.PolicyDocument })),
        ...(policiesByRole.get(id) ?? []),
      ],
      managedPolicyArns: props.ManagedPolicyArns,
    });
  }

  const functions = new Map<string, TwinFunction>();
  for (const [id, resource] of ofType('AWS::Lambda::Function')) {
    const props = parse(LambdaFunctionSchema, id, propsOf(resource));
    const roleLogicalId = getAttTarget(resource.Properties?.Role);
    const assetDir = stack.assetFolders.get(props.Code.S3Key);
    if (roleLogicalId === undefined || !roles.has(roleLogicalId))
      throw new InvalidTemplateError(`${id}: its role is not a role of this stack`);
    if (assetDir === undefined)
      throw new InvalidTemplateError(`${id}: its code ${props.Code.S3Key} is no asset of the assembly`);
    const physical = resolver.physical(id);
    functions.set(id, {
      logicalId: id,
      name: physical.ref,
      arn: physical.attributes.Arn ?? '',
      runtime: props.Runtime,
      handler: props.Handler,
      assetDir,
      environment: props.Environment?.Variables ?? {},
      timeoutSeconds: props.Timeout,
      memoryMb: props.MemorySize,
      roleLogicalId,
    });
  }

  const bucketPolicies = new Map<string, PolicyDocument>();
  for (const [id, resource] of ofType('AWS::S3::BucketPolicy')) {
    const policy = parse(BucketPolicySchema, id, propsOf(resource));
    bucketPolicies.set(policy.Bucket, policy.PolicyDocument);
  }
  const buckets = new Map<string, TwinBucket>();
  for (const [id, resource] of ofType('AWS::S3::Bucket')) {
    const props = parse(BucketSchema, id, propsOf(resource));
    const physical = resolver.physical(id);
    const sse = props.BucketEncryption?.ServerSideEncryptionConfiguration[0]?.ServerSideEncryptionByDefault;
    buckets.set(id, {
      logicalId: id,
      name: physical.ref,
      arn: physical.attributes.Arn ?? '',
      encryptionKeyArn: sse?.SSEAlgorithm === 'aws:kms' ? sse.KMSMasterKeyID : undefined,
      policy: bucketPolicies.get(physical.ref),
    });
  }

  const queuePolicies = new Map<string, PolicyDocument>();
  for (const [id, resource] of ofType('AWS::SQS::QueuePolicy')) {
    const policy = parse(QueuePolicySchema, id, propsOf(resource));
    for (const url of policy.Queues) queuePolicies.set(url, policy.PolicyDocument);
  }
  const queues = new Map<string, TwinQueue>();
  for (const [id, resource] of ofType('AWS::SQS::Queue')) {
    const props = parse(QueueSchema, id, propsOf(resource));
    const physical = resolver.physical(id);
    queues.set(id, {
      logicalId: id,
      name: physical.attributes.QueueName ?? '',
      url: physical.ref,
      arn: physical.attributes.Arn ?? '',
      visibilityTimeoutSeconds: props.VisibilityTimeout,
      messageRetentionSeconds: props.MessageRetentionPeriod,
      redrive: props.RedrivePolicy,
      kmsKeyArn: props.KmsMasterKeyId,
      policy: queuePolicies.get(physical.ref),
    });
  }

  const keys = new Map<string, TwinKey>();
  for (const [id, resource] of ofType('AWS::KMS::Key')) {
    const props = parse(KeySchema, id, propsOf(resource));
    keys.set(id, { logicalId: id, arn: resolver.physical(id).attributes.Arn ?? '', policy: props.KeyPolicy });
  }

  const secrets = new Map<string, TwinSecret>();
  for (const [id, resource] of ofType('AWS::SecretsManager::Secret')) {
    const props = parse(SecretSchema, id, propsOf(resource));
    const arn = resolver.physical(id).ref;
    // The name is the ARN's resource part without the six characters Secrets Manager appends.
    const name = arn.split(':secret:', 2)[1]?.replace(/-\w{6}$/, '') ?? id;
    secrets.set(id, { logicalId: id, name, arn, kmsKeyArn: props.KmsKeyId });
  }
  const eventBuses = new Map<string, TwinEventBus>();
  for (const [id, resource] of ofType('AWS::Events::EventBus')) {
    const props = parse(EventBusSchema, id, propsOf(resource));
    const physical = resolver.physical(id);
    eventBuses.set(id, {
      logicalId: id,
      name: physical.ref,
      arn: physical.attributes.Arn ?? '',
      kmsKeyArn: props.KmsKeyIdentifier,
      deadLetterArn: props.DeadLetterConfig?.Arn,
    });
  }

  const functionByName = new Map([...functions.values()].map((fn) => [fn.name, fn.logicalId]));
  const queueMappings: TwinQueueMapping[] = [];
  for (const [id, resource] of ofType('AWS::Lambda::EventSourceMapping')) {
    const props = parse(MappingSchema, id, propsOf(resource));
    const functionLogicalId = functionByName.get(props.FunctionName);
    if (functionLogicalId === undefined)
      throw new InvalidTemplateError(`${id}: maps to no function of this stack`);
    queueMappings.push({
      logicalId: id,
      functionLogicalId,
      queueArn: props.EventSourceArn,
      batchSize: props.BatchSize,
      maximumBatchingWindowSeconds: props.MaximumBatchingWindowInSeconds,
      maximumConcurrency: props.ScalingConfig?.MaximumConcurrency,
      reportBatchItemFailures: props.FunctionResponseTypes.includes('ReportBatchItemFailures'),
    });
  }

  const routing: EventRouting = eventRoutingOf(template.Resources, resolver, {
    byNameOrArn: (value) => {
      const fn = [...functions.values()].find((f) => f.name === value || f.arn === value);
      return fn === undefined ? undefined : { logicalId: fn.logicalId, arn: fn.arn };
    },
  });

  return {
    stackName: stack.stackName,
    assemblyDir: stack.directory,
    functions,
    roles,
    buckets,
    queues,
    keys,
    secrets,
    eventBuses,
    queueMappings,
    scheduleTargets: routing.scheduleTargets,
    eventRules: routing.rules,
    scheduledRules: routing.scheduledRules,
    archives: routing.archives,
    lambdaPermissions: routing.lambdaPermissions,
    asyncInvokeConfigs: routing.asyncInvokeConfigs,
    tables: tablesOf(template.Resources, resolver),
    workGroups: workGroupsOf(template.Resources, resolver),
    glueDatabases: glueDatabasesOf(template.Resources, resolver),
    resolver,
  };
}

/**
 * The function of a construct, by the logical id CDK derives from its path: `Services/Downloader` becomes
 * `ServicesDownloader` and an 8-digit hash. (Path metadata is only written when the CLI asks for it.)
 */
export function functionOfConstruct(model: StackModel, constructPath: string): TwinFunction {
  const prefix = constructPath.split('/').join('');
  const found = [...model.functions.values()].filter((fn) =>
    new RegExp(`^${prefix}[0-9A-F]{8}$`).test(fn.logicalId),
  );
  const [first, ...others] = found;
  if (first === undefined || others.length > 0)
    throw new InvalidTemplateError(
      `expected one function of construct ${constructPath}, found ${found.length}`,
    );
  return first;
}

/** The role a function runs with. */
export function roleOf(model: StackModel, fn: TwinFunction): TwinRole {
  const role = model.roles.get(fn.roleLogicalId);
  if (role === undefined) throw new InvalidTemplateError(`${fn.logicalId}: no role ${fn.roleLogicalId}`);
  return role;
}
