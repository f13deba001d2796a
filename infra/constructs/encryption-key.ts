import { ArnFormat, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface EncryptionKeyProps {
  stage: string;
  removalPolicy: RemovalPolicy;
}

/**
 * The stage's customer-managed key: it encrypts the bus, its archive, the queues, the buckets, the secrets,
 * the run ledger and the alarm topic. Rotated yearly by KMS. Key policy statements use Resource "*", which in a
 * key policy means "this key" (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
 */
export class EncryptionKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      alias: `alias/fleet-etl-${props.stage}`,
      description: `fleet-etl ${props.stage}: bus, queues, buckets, secrets, run ledger, alarm topic`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: props.removalPolicy,
    });
  }

  /**
   * Lets an AWS service use the key on this account's behalf when it writes into an encrypted queue or topic
   * (EventBridge into the dead-letter queue and the alarm topic, CloudWatch alarms into the topic). The
   * service's own calls carry no role of ours, so the key policy is the only place this can be granted.
   */
  allowServiceToEncrypt(servicePrincipal: string, sid: string): void {
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid,
        principals: [new ServicePrincipal(servicePrincipal)],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
  }

  /**
   * Lets CloudWatch Logs encrypt and decrypt the log groups of this account and region with the key. Logs calls
   * KMS with its regional service principal, and the encryption context names the log group, which bounds the
   * grant (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
   */
  allowLogsToEncrypt(): void {
    const stack = Stack.of(this);
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchLogsToEncryptLogGroups',
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
  }
}
