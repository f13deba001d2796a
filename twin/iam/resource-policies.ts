import type { PolicyDocument, PolicyStatement } from '../template/policy-document.js';
import type { StackModel, TwinLambdaPermission } from '../template/stack-model.js';

/**
 * The resource policy AWS evaluates with a request on `resourceArn`: a bucket's for the bucket and its objects, a
 * queue's, a key's, a function's. Resources of other kinds in this stack carry none the template sets.
 */
export function resourcePolicyFor(model: StackModel, resourceArn: string): PolicyDocument | undefined {
  if (resourceArn.startsWith('arn:aws:s3:::')) {
    const bucketName = resourceArn.slice('arn:aws:s3:::'.length).split('/', 1)[0];
    for (const bucket of model.buckets.values()) if (bucket.name === bucketName) return bucket.policy;
    return undefined;
  }
  for (const queue of model.queues.values()) if (queue.arn === resourceArn) return queue.policy;
  for (const key of model.keys.values()) if (key.arn === resourceArn) return key.policy;
  for (const fn of model.functions.values())
    if (fn.arn === resourceArn) return functionPolicyOf(model, fn.arn);
  return undefined;
}

/**
 * A function's resource policy: one statement per AWS::Lambda::Permission, shaped as Lambda's AddPermission writes
 * it (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html). No permission, no policy:
 * then no service can invoke the function.
 */
function functionPolicyOf(model: StackModel, functionArn: string): PolicyDocument | undefined {
  const statements = model.lambdaPermissions
    .filter((p) => p.functionArn === functionArn)
    .map((p) => statementOf(p));
  return statements.length === 0 ? undefined : { Version: '2012-10-17', Statement: statements };
}

function statementOf(permission: TwinLambdaPermission): PolicyStatement {
  const principal: Record<string, string> = permission.principal.endsWith('.amazonaws.com')
    ? { Service: permission.principal }
    : { AWS: permission.principal };
  const condition: NonNullable<PolicyStatement['Condition']> = {};
  if (permission.sourceArn !== undefined) condition.ArnLike = { 'AWS:SourceArn': permission.sourceArn };
  if (permission.sourceAccount !== undefined)
    condition.StringEquals = { 'AWS:SourceAccount': permission.sourceAccount };
  return {
    Sid: permission.logicalId,
    Effect: 'Allow',
    Principal: principal,
    Action: permission.action,
    Resource: permission.functionArn,
    ...(Object.keys(condition).length === 0 ? {} : { Condition: condition }),
  };
}
