/**
 * cdk-nag v3 acknowledgements (`Validations.of(...).acknowledge`) name one finding each. IAM5 findings name the
 * wildcard: `AwsSolutions-IAM5[Action::s3:List*]` or `AwsSolutions-IAM5[Resource::<RawBucket1234.Arn>/*]`,
 * the resource written the way cdk-nag flattens CloudFormation references. These helpers build those ids, so an
 * acknowledgement stays next to the grant it explains and names exactly what that grant produced.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

type Reference = unknown;

const isRecord = (node: Reference): node is Record<string, unknown> =>
  typeof node === 'object' && node !== null && !Array.isArray(node);

/** The same flattening cdk-nag applies (its utils/flatten-cfn-reference, which the package does not export). */
export function flattenReference(node: Reference): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (isRecord(node)) {
    const join = node['Fn::Join'];
    if (Array.isArray(join)) {
      const [delimiter, items] = join;
      if (typeof delimiter === 'string' && Array.isArray(items))
        return items.map(flattenReference).join(delimiter);
    }
    if (node['Fn::Sub'] !== undefined) return flattenReference(node['Fn::Sub']);
    const getAtt = node['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${flattenReference(getAtt[0])}.${flattenReference(getAtt[1])}>`;
    if (node['Fn::ImportValue'] !== undefined) return flattenReference(node['Fn::ImportValue']);
    if (node.Ref !== undefined) return `<${flattenReference(node.Ref)}>`;
  }
  return JSON.stringify(node);
}

/** The IAM5 finding id of a wildcard resource, e.g. `Resource::<RawBucket1234.Arn>/*`. */
export function wildcardResourceFinding(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenReference(Stack.of(scope).resolve(resource))}]`;
}

export function wildcardActionFinding(action: string): string {
  return `AwsSolutions-IAM5[Action::${action}]`;
}

/**
 * The namespace CDK gives the cdk-nag pack's findings. An id without a namespace would be recorded as an
 * annotation acknowledgement (`Annotation::...`), so ids are always qualified.
 */
const NAMESPACE = 'AwsSolutions::';

/** Acknowledges findings on `scope` and everything under it, each with the same reason. */
export function acknowledge(scope: IConstruct, ids: readonly string[], reason: string): void {
  for (const id of ids) {
    Validations.of(scope).acknowledge({ id: id.startsWith(NAMESPACE) ? id : `${NAMESPACE}${id}`, reason });
  }
}

/**
 * CDK's encrypt/decrypt grants on a key (grantEncryptDecrypt, and the key half of grantPut and grantReadWrite on
 * buckets, queues and tables) name two action groups; both are limited to the stage's one key by the resource.
 */
export function acknowledgeKeyGrant(role: IConstruct): void {
  acknowledge(
    role,
    [wildcardActionFinding('kms:GenerateDataKey*'), wildcardActionFinding('kms:ReEncrypt*')],
    "CDK's encrypt/decrypt action groups on the stage's one key ARN: GenerateDataKey* is GenerateDataKey and " +
      'GenerateDataKeyWithoutPlaintext, which SSE-KMS writes call; ReEncrypt* lets S3, SQS and DynamoDB re-wrap ' +
      'data keys of this key. The statement resource is that key, no other.',
  );
}
