import * as z from 'zod';
import { InvalidTemplateError } from './errors.js';
import type { IntrinsicResolver, Resolved } from './intrinsics.js';
import type { TemplateResourceLike } from './physical-names.js';

/** How a rule target shapes the event it delivers (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html). */
export type TargetInput =
  | { kind: 'event' }
  | { kind: 'constant'; json: string }
  | { kind: 'transformer'; paths: Readonly<Record<string, string>>; template: string };

/**
 * A target's retry policy; EventBridge's defaults when the template leaves it out are 24 hours and 185 attempts
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html).
 */
export interface TargetRetryPolicy {
  maximumEventAgeSeconds: number;
  maximumRetryAttempts: number;
}

export interface TwinRuleTarget {
  id: string;
  arn: string;
  /** The stack's function the target invokes, if it is one (log groups, SNS topics are not emulated). */
  functionLogicalId: string | undefined;
  input: TargetInput;
  retry: TargetRetryPolicy;
  deadLetterArn: string | undefined;
}

/** A rule with an event pattern on a bus of the template. */
export interface TwinEventRule {
  logicalId: string;
  name: string;
  arn: string;
  busArn: string;
  pattern: Record<string, unknown>;
  enabled: boolean;
  targets: readonly TwinRuleTarget[];
}

/** A scheduled rule (on the default bus, the only one schedules fire on) with all its targets. */
export interface TwinScheduledRule {
  logicalId: string;
  name: string;
  arn: string;
  busArn: string;
  scheduleExpression: string;
  enabled: boolean;
  targets: readonly TwinRuleTarget[];
}

/** A scheduled rule's target that is a function of this stack. */
export interface TwinScheduleTarget {
  ruleLogicalId: string;
  ruleArn: string;
  scheduleExpression: string;
  targetId: string;
  functionLogicalId: string;
  input: TargetInput;
}

export interface TwinArchive {
  logicalId: string;
  name: string;
  arn: string;
  busArn: string;
  /** Without a pattern an archive keeps every event of its bus. */
  pattern: Record<string, unknown> | undefined;
}

/** One statement of a function's resource policy, as an AWS::Lambda::Permission adds it. */
export interface TwinLambdaPermission {
  logicalId: string;
  functionArn: string;
  action: string;
  principal: string;
  sourceArn: string | undefined;
  sourceAccount: string | undefined;
}

/**
 * Lambda's asynchronous invocation settings of a function; without an AWS::Lambda::EventInvokeConfig, two retries
 * and six hours (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
 */
export interface TwinAsyncInvokeConfig {
  functionLogicalId: string;
  maximumRetryAttempts: number;
  maximumEventAgeSeconds: number;
  onFailureArn: string | undefined;
}

export const DEFAULT_ASYNC_INVOKE = { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600 } as const;

export interface EventRouting {
  rules: readonly TwinEventRule[];
  scheduledRules: readonly TwinScheduledRule[];
  scheduleTargets: readonly TwinScheduleTarget[];
  archives: readonly TwinArchive[];
  lambdaPermissions: readonly TwinLambdaPermission[];
  asyncInvokeConfigs: readonly TwinAsyncInvokeConfig[];
}

const TargetSchema = z.object({
  Id: z.string(),
  Arn: z.string(),
  Input: z.string().optional(),
  InputPath: z.string().optional(),
  InputTransformer: z
    .object({ InputPathsMap: z.record(z.string(), z.string()).default({}), InputTemplate: z.string() })
    .optional(),
  RetryPolicy: z
    .object({
      MaximumEventAgeInSeconds: z.number().int().positive().default(86_400),
      MaximumRetryAttempts: z.number().int().min(0).default(185),
    })
    .default({ MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 }),
  DeadLetterConfig: z.object({ Arn: z.string() }).optional(),
});

const RuleSchema = z.object({
  ScheduleExpression: z.string().optional(),
  EventPattern: z.record(z.string(), z.unknown()).optional(),
  EventBusName: z.string().default('default'),
  State: z.string().default('ENABLED'),
  Targets: z.array(TargetSchema).default([]),
});
const ArchiveSchema = z.object({
  SourceArn: z.string(),
  EventPattern: z.record(z.string(), z.unknown()).optional(),
});
const PermissionSchema = z.object({
  Action: z.string(),
  FunctionName: z.string(),
  Principal: z.string(),
  SourceArn: z.string().optional(),
  SourceAccount: z.string().optional(),
});
const InvokeConfigSchema = z.object({
  FunctionName: z.string(),
  MaximumRetryAttempts: z.number().int().min(0).default(DEFAULT_ASYNC_INVOKE.maximumRetryAttempts),
  MaximumEventAgeInSeconds: z.number().int().positive().default(DEFAULT_ASYNC_INVOKE.maximumEventAgeSeconds),
  DestinationConfig: z.object({ OnFailure: z.object({ Destination: z.string() }).optional() }).optional(),
});

function parse<S extends z.ZodType>(schema: S, logicalId: string, value: Resolved): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new InvalidTemplateError(`${logicalId}: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  return parsed.data;
}

function inputOf(target: z.infer<typeof TargetSchema>, ruleId: string): TargetInput {
  if (target.InputPath !== undefined)
    throw new InvalidTemplateError(`${ruleId}/${target.Id}: the twin does not shape InputPath targets yet`);
  if (target.InputTransformer !== undefined)
    return {
      kind: 'transformer',
      paths: target.InputTransformer.InputPathsMap,
      template: target.InputTransformer.InputTemplate,
    };
  return target.Input !== undefined ? { kind: 'constant', json: target.Input } : { kind: 'event' };
}

/** The functions of the stack by name and by ARN: what a FunctionName or a target's Arn may say. */
export interface FunctionIndex {
  byNameOrArn(value: string): { logicalId: string; arn: string } | undefined;
}

/**
 * EventBridge and Lambda's side of the template: rules (scheduled and patterned), their targets with retry
 * policies and dead-letter queues, archives, the functions' resource policies and asynchronous invoke settings.
 */
export function eventRoutingOf(
  resources: Readonly<Record<string, TemplateResourceLike>>,
  resolver: IntrinsicResolver,
  functions: FunctionIndex,
): EventRouting {
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const propsOf = (resource: TemplateResourceLike) => resolver.resolve(resource.Properties ?? {});
  const busArnOf = (name: string) =>
    name.startsWith('arn:')
      ? name
      : resolver.string({
          'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${name}`,
        });

  const rules: TwinEventRule[] = [];
  const scheduledRules: TwinScheduledRule[] = [];
  const scheduleTargets: TwinScheduleTarget[] = [];
  for (const [id, resource] of ofType('AWS::Events::Rule')) {
    const props = parse(RuleSchema, id, propsOf(resource));
    const physical = resolver.physical(id);
    const ruleArn = physical.attributes.Arn ?? '';
    const targets = props.Targets.map((target) => ({
      id: target.Id,
      arn: target.Arn,
      functionLogicalId: functions.byNameOrArn(target.Arn)?.logicalId,
      input: inputOf(target, id),
      retry: {
        maximumEventAgeSeconds: target.RetryPolicy.MaximumEventAgeInSeconds,
        maximumRetryAttempts: target.RetryPolicy.MaximumRetryAttempts,
      },
      deadLetterArn: target.DeadLetterConfig?.Arn,
    }));
    if (props.ScheduleExpression !== undefined) {
      scheduledRules.push({
        logicalId: id,
        name: physical.ref.split('|').at(-1) ?? physical.ref,
        arn: ruleArn,
        busArn: busArnOf(props.EventBusName),
        scheduleExpression: props.ScheduleExpression,
        enabled: props.State === 'ENABLED',
        targets,
      });
      for (const target of targets) {
        if (target.functionLogicalId === undefined) continue;
        scheduleTargets.push({
          ruleLogicalId: id,
          ruleArn,
          scheduleExpression: props.ScheduleExpression,
          targetId: target.id,
          functionLogicalId: target.functionLogicalId,
          input: target.input,
        });
      }
      continue;
    }
    if (props.EventPattern === undefined)
      throw new InvalidTemplateError(`${id}: a rule with neither a schedule nor an event pattern`);
    rules.push({
      logicalId: id,
      name: physical.ref.split('|').at(-1) ?? physical.ref,
      arn: ruleArn,
      busArn: busArnOf(props.EventBusName),
      pattern: props.EventPattern,
      enabled: props.State === 'ENABLED',
      targets,
    });
  }

  const archives = ofType('AWS::Events::Archive').map(([id, resource]) => {
    const props = parse(ArchiveSchema, id, propsOf(resource));
    const physical = resolver.physical(id);
    return {
      logicalId: id,
      name: physical.ref,
      arn: physical.attributes.Arn ?? '',
      busArn: props.SourceArn,
      pattern: props.EventPattern,
    };
  });

  const functionOf = (id: string, name: string) => {
    const fn = functions.byNameOrArn(name);
    if (fn === undefined) throw new InvalidTemplateError(`${id}: names no function of this stack (${name})`);
    return fn;
  };
  const lambdaPermissions = ofType('AWS::Lambda::Permission').map(([id, resource]) => {
    const props = parse(PermissionSchema, id, propsOf(resource));
    return {
      logicalId: id,
      functionArn: functionOf(id, props.FunctionName).arn,
      action: props.Action,
      principal: props.Principal,
      sourceArn: props.SourceArn,
      sourceAccount: props.SourceAccount,
    };
  });
  const asyncInvokeConfigs = ofType('AWS::Lambda::EventInvokeConfig').map(([id, resource]) => {
    const props = parse(InvokeConfigSchema, id, propsOf(resource));
    return {
      functionLogicalId: functionOf(id, props.FunctionName).logicalId,
      maximumRetryAttempts: props.MaximumRetryAttempts,
      maximumEventAgeSeconds: props.MaximumEventAgeInSeconds,
      onFailureArn: props.DestinationConfig?.OnFailure?.Destination,
    };
  });
  return { rules, scheduledRules, scheduleTargets, archives, lambdaPermissions, asyncInvokeConfigs };
}
