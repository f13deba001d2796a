import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
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
}
