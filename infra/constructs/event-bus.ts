import { Duration, Stack } from 'aws-cdk-lib';
import { Archive, type CfnArchive, EventBus } from 'aws-cdk-lib/aws-events';
import { type IGrantable, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DetailTypeName } from '../../events/index.js';

/**
 * The condition that lets a PutEvents call through only when every entry has one of `detailTypes`.
 * `events:detail-type` is a condition key of PutEvents, typed ArrayOfString: a call carries up to ten entries, so
 * the key can hold several values (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html).
 * A multivalued key needs a set operator: `ForAllValues:StringEquals` holds when each value is one of the list,
 * and also when the key is absent, which the `Null` check refuses
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
 * EventBridge answers an entry refused for its detail-type with NotAuthorizedForDetailTypeException
 * (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html).
 */
function detailTypeCondition(
  detailTypes: readonly DetailTypeName[],
): Record<string, Record<string, unknown>> {
  return {
    'ForAllValues:StringEquals': { 'events:detail-type': [...detailTypes] },
    Null: { 'events:detail-type': 'false' },
  };
}

export interface FleetEventBusProps {
  busName: string;
  key: IKey;
  /** 0 keeps events forever. */
  archiveRetentionDays: number;
  /** Where EventBridge puts events it cannot encrypt or decrypt with the key; must not be encrypted with it. */
  deadLetterQueue: IQueue;
}

/**
 * The custom bus every stage publishes on, encrypted with the stage's key, and the archive of everything it
 * carries: replaying a window of the archive re-runs those events through the same rules, and every consumer
 * is idempotent (ARCHITECTURE.md, principle 4).
 */
export class FleetEventBus extends Construct {
  readonly bus: EventBus;
  readonly archive: Archive;

  constructor(scope: Construct, id: string, props: FleetEventBusProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Built from the name, not read from the bus resource: the key policy must not depend on the bus, which
    // depends on the key (CloudFormation refuses the cycle).
    const busArn = stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: props.busName });
    // With a customer managed key, events the key cannot process go to this queue rather than being dropped
    // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-event-bus-dlq.html).
    this.bus = new EventBus(this, 'Bus', {
      eventBusName: props.busName,
      description: 'fleet-etl domain events (source fleet-etl)',
      kmsKey: props.key,
      deadLetterQueue: props.deadLetterQueue,
    });
    props.deadLetterQueue.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowTheBusToDeadLetter',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [props.deadLetterQueue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.bus.eventBusArn } },
      }),
    );
    // CDK's Archive with `kmsKey` writes the bus's GetAtt ARN into the key policy, which closes that cycle; so
    // the key is set on the L1 and the key statement is written here with the name-derived ARN
    // (https://docs.aws.amazon.com/eventbridge/latest/userguide/encryption-archives.html).
    this.archive = new Archive(this, 'Archive', {
      sourceEventBus: this.bus,
      description: `Every event of ${props.busName}, for replays`,
      // Everything this account puts on the bus: the pattern has to name something, and the account is all.
      eventPattern: { account: [stack.account] },
      retention: Duration.days(props.archiveRetentionDays),
    });
    (this.archive.node.defaultChild as CfnArchive).kmsKeyIdentifier = props.key.keyArn;
    props.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowEventBridgeToEncryptTheArchive',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:ReEncrypt*'],
        resources: ['*'],
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'kms:EncryptionContext:aws:events:event-bus:arn': busArn,
          },
        },
      }),
    );
  }

  /**
   * PutEvents on this bus for the detail-types a service declares it publishes (services/topology.ts), and no
   * other: a service that sends another fails in AWS as it fails locally (local/declared-publisher.ts).
   */
  grantPublish(grantee: IGrantable, detailTypes: readonly DetailTypeName[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: detailTypeCondition(detailTypes),
      }),
    );
  }
}
