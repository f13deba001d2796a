import type { Template } from 'aws-cdk-lib/assertions';
import type { CfnResource } from './template.js';

const FAKE_ACCOUNT = '123456789012';
export const FAKE_REGION = 'eu-west-1';

const PSEUDO: Record<string, string> = {
  'AWS::AccountId': FAKE_ACCOUNT,
  'AWS::Region': FAKE_REGION,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
};

const bucketName = (id: string) => `fleet-etl-${id.toLowerCase()}`.slice(0, 63);

/** What CloudFormation would return for `Ref`, by resource type, in a made-up account. */
function physicalRef(id: string, resource: CfnResource): string {
  const name = resource.Properties?.Name;
  switch (resource.Type) {
    case 'AWS::S3::Bucket':
      return bucketName(id);
    case 'AWS::SQS::Queue':
      return `https://sqs.${FAKE_REGION}.amazonaws.com/${FAKE_ACCOUNT}/${id}`;
    case 'AWS::SecretsManager::Secret':
      return `arn:aws:secretsmanager:${FAKE_REGION}:${FAKE_ACCOUNT}:secret:${String(name ?? id)}-AbCdEf`;
    case 'AWS::Events::EventBus':
      return String(name ?? id);
    default:
      return id;
  }
}

class UnresolvableValueError extends Error {
  override readonly name = 'UnresolvableValueError';
}

/**
 * Resolves a template value (Ref, Fn::GetAtt Arn, Fn::Join, pseudo parameters) to the string a deployment would
 * give, with made-up physical names: enough to hand a function its environment outside AWS.
 */
export function resolveValue(template: Template, value: unknown): string {
  const resources = template.toJSON().Resources as Record<string, CfnResource>;
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node;
    if (typeof node === 'number') return String(node);
    if (typeof node === 'object' && node !== null) {
      if ('Ref' in node && typeof node.Ref === 'string') {
        const pseudo = PSEUDO[node.Ref];
        if (pseudo !== undefined) return pseudo;
        const resource = resources[node.Ref];
        if (resource !== undefined) return physicalRef(node.Ref, resource);
      }
      if ('Fn::Join' in node && Array.isArray(node['Fn::Join'])) {
        const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
        return parts.map(visit).join(delimiter);
      }
      if ('Fn::GetAtt' in node && Array.isArray(node['Fn::GetAtt'])) {
        const [id, attribute] = node['Fn::GetAtt'] as [string, string];
        if (attribute === 'Arn') return `arn:aws:fake:${FAKE_REGION}:${FAKE_ACCOUNT}:${id}`;
      }
    }
    throw new UnresolvableValueError(`cannot resolve ${JSON.stringify(node)}`);
  };
  return visit(value);
}
