import { type CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';

/** A resource of the synthesized template, loosely typed: tests narrow what they read. */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

/** A resource's properties; a resource without any has none to read. */
export const propertiesOf = (resource: CfnResource): Record<string, unknown> => resource.Properties ?? {};

export function resourcesOf(template: Template, type: string): [string, CfnResource][] {
  return Object.entries(template.findResources(type) as Record<string, CfnResource>);
}

export function onlyResource(template: Template, type: string): [string, CfnResource] {
  const found = resourcesOf(template, type);
  const [first, ...rest] = found;
  if (first === undefined || rest.length > 0) throw new Error(`expected one ${type}, found ${found.length}`);
  return first;
}

/** The logical id CloudFormation knows a construct (or its default child) by. */
export function idOf(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
}

export const ref = (id: string) => ({ Ref: id });
export const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

export interface PolicyStatementJson {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, unknown>;
  Sid?: string;
}

export const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

function statementsOf(document: unknown): PolicyStatementJson[] {
  if (typeof document !== 'object' || document === null || !('Statement' in document)) return [];
  const statements = (document as { Statement: unknown }).Statement;
  return Array.isArray(statements) ? (statements as PolicyStatementJson[]) : [];
}

/** Every statement of identity policies (inline role policies, AWS::IAM::Policy, managed policies). */
export function identityStatements(template: Template): { owner: string; statement: PolicyStatementJson }[] {
  const found: { owner: string; statement: PolicyStatementJson }[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, resource] of resourcesOf(template, type)) {
      for (const statement of statementsOf(resource.Properties?.PolicyDocument))
        found.push({ owner: id, statement });
    }
  }
  for (const [id, resource] of resourcesOf(template, 'AWS::IAM::Role')) {
    const policies = resource.Properties?.Policies;
    for (const policy of Array.isArray(policies) ? policies : []) {
      for (const statement of statementsOf((policy as { PolicyDocument?: unknown }).PolicyDocument)) {
        found.push({ owner: id, statement });
      }
    }
  }
  return found;
}

/** Statements of resource policies other than key policies (buckets, queues, topics, buses, log groups). */
export function resourcePolicyStatements(
  template: Template,
): { owner: string; statement: PolicyStatementJson }[] {
  const found: { owner: string; statement: PolicyStatementJson }[] = [];
  for (const type of ['AWS::S3::BucketPolicy', 'AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy']) {
    for (const [id, resource] of resourcesOf(template, type)) {
      for (const statement of statementsOf(resource.Properties?.PolicyDocument))
        found.push({ owner: id, statement });
    }
  }
  return found;
}
