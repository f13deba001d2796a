import { createHash } from 'node:crypto';
import { TWIN_ACCOUNT, TWIN_PARTITION, TWIN_REGION } from '../twin-account.js';
import { UnresolvableTemplateValueError } from './errors.js';

/** What `Ref` and `Fn::GetAtt` give for one resource once deployed. */
export interface PhysicalResource {
  ref: string;
  attributes: Readonly<Record<string, string>>;
}

/** Where the deployed services answer, when not at AWS's own hosts (the twin's front). */
export interface ServiceEndpoints {
  /**
   * The SQS endpoint a queue URL names. The SDK sends each SQS call to its QueueUrl's host unless the client
   * is configured with an endpoint in code, so in the twin a queue URL must name the twin's SQS endpoint, as in
   * AWS it names AWS's.
   */
  sqs?: string;
}

export interface TemplateResourceLike {
  Type: string;
  Properties?: Record<string, unknown>;
}

/**
 * A deterministic stand-in for the random suffix CloudFormation appends to generated names, so the same template
 * always deploys to the same names in the twin.
 */
const suffixOf = (logicalId: string) =>
  createHash('sha256').update(logicalId).digest('hex').slice(0, 12).toUpperCase();

/**
 * CloudFormation's generated name: `<stack>-<logical id>-<suffix>`, cut to the service's limit
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html).
 */
function generatedName(stackName: string, logicalId: string, maxLength: number): string {
  const suffix = suffixOf(logicalId);
  const head = `${stackName}-${logicalId}`.slice(0, maxLength - suffix.length - 1);
  return `${head}-${suffix}`;
}

const literal = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The physical identity of a resource in the twin's account. Names the template sets are kept; names it leaves
 * to CloudFormation are generated as CloudFormation would shape them. A type the twin has no rule for is refused,
 * so a template that grows a new kind of resource fails loudly instead of being half-modelled.
 */
export function physicalResource(
  stackName: string,
  logicalId: string,
  resource: TemplateResourceLike,
  /** Resolves a property that may be an intrinsic (a name built with Fn::Join, say). */
  resolveName: (value: unknown) => string | undefined = literal,
  endpoints: ServiceEndpoints = {},
): PhysicalResource {
  const props = resource.Properties ?? {};
  const named = (key: string, maxLength: number, lower = false): string => {
    const given = props[key] === undefined ? undefined : resolveName(props[key]);
    const name = given ?? generatedName(stackName, logicalId, maxLength);
    return lower ? name.toLowerCase() : name;
  };
  const regional = (service: string, rest: string) =>
    `arn:${TWIN_PARTITION}:${service}:${TWIN_REGION}:${TWIN_ACCOUNT}:${rest}`;
  switch (resource.Type) {
    case 'AWS::S3::Bucket': {
      const name = named('BucketName', 63, true);
      return {
        ref: name,
        attributes: {
          Arn: `arn:${TWIN_PARTITION}:s3:::${name}`,
          DomainName: `${name}.s3.amazonaws.com`,
          RegionalDomainName: `${name}.s3.${TWIN_REGION}.amazonaws.com`,
        },
      };
    }
    case 'AWS::SQS::Queue': {
      const name = named('QueueName', 80);
      const url = `${endpoints.sqs ?? `https://sqs.${TWIN_REGION}.amazonaws.com`}/${TWIN_ACCOUNT}/${name}`;
      return { ref: url, attributes: { Arn: regional('sqs', name), QueueName: name, QueueUrl: url } };
    }
    case 'AWS::KMS::Key': {
      const id = suffixOf(logicalId).toLowerCase();
      const keyId = `${id.slice(0, 8)}-${id.slice(8, 12)}-4000-8000-${id.padEnd(12, '0').slice(0, 12)}`;
      return { ref: keyId, attributes: { Arn: regional('kms', `key/${keyId}`), KeyId: keyId } };
    }
    case 'AWS::IAM::Role': {
      const name = named('RoleName', 64);
      return {
        ref: name,
        attributes: {
          Arn: `arn:${TWIN_PARTITION}:iam::${TWIN_ACCOUNT}:role/${name}`,
          RoleId: `AROA${suffixOf(logicalId)}`,
        },
      };
    }
    case 'AWS::Lambda::Function': {
      const name = named('FunctionName', 64);
      return { ref: name, attributes: { Arn: regional('lambda', `function:${name}`) } };
    }
    case 'AWS::Logs::LogGroup': {
      const name = named('LogGroupName', 512);
      return { ref: name, attributes: { Arn: regional('logs', `log-group:${name}:*`) } };
    }
    case 'AWS::Events::EventBus': {
      const name = named('Name', 256);
      return { ref: name, attributes: { Arn: regional('events', `event-bus/${name}`), Name: name } };
    }
    case 'AWS::Events::Rule': {
      // A rule on a custom bus has the bus in its ARN and its Ref
      // (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-events-rule.html#aws-resource-events-rule-return-values).
      const name = named('Name', 64);
      const bus = props.EventBusName === undefined ? undefined : resolveName(props.EventBusName);
      const onCustomBus = bus !== undefined && bus !== 'default';
      return {
        ref: onCustomBus ? `${bus}|${name}` : name,
        attributes: { Arn: regional('events', onCustomBus ? `rule/${bus}/${name}` : `rule/${name}`) },
      };
    }
    case 'AWS::Events::Archive': {
      const name = named('ArchiveName', 48);
      return { ref: name, attributes: { Arn: regional('events', `archive/${name}`) } };
    }
    case 'AWS::DynamoDB::Table': {
      const name = named('TableName', 255);
      return { ref: name, attributes: { Arn: regional('dynamodb', `table/${name}`) } };
    }
    case 'AWS::SecretsManager::Secret': {
      // Secrets Manager appends six random characters to the name in the ARN; Ref is the ARN.
      const arn = regional(
        'secretsmanager',
        `secret:${named('Name', 512)}-${suffixOf(logicalId).slice(0, 6)}`,
      );
      return { ref: arn, attributes: { Id: arn } };
    }
    case 'AWS::SNS::Topic': {
      const name = named('TopicName', 256);
      const arn = regional('sns', name);
      return { ref: arn, attributes: { TopicArn: arn, TopicName: name } };
    }
    case 'AWS::Athena::WorkGroup': {
      const name = named('Name', 128);
      return { ref: name, attributes: {} };
    }
    case 'AWS::Glue::Database': {
      const input = props.DatabaseInput;
      const given =
        typeof input === 'object' && input !== null ? resolveName(Reflect.get(input, 'Name')) : undefined;
      const name = given ?? generatedName(stackName, logicalId, 255).toLowerCase();
      return { ref: name, attributes: {} };
    }
    default:
      throw new UnresolvableTemplateValueError(
        `the twin does not know what ${resource.Type} (${logicalId}) deploys to; add it to twin/template/physical-names.ts`,
      );
  }
}
