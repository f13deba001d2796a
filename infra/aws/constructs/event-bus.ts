import { Duration, Stack } from 'aws-cdk-lib';
import { Archive, EventBus } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface FleetEventBusProps {
  busName: string;
  key: IKey;
  /** 0 keeps events forever. */
  archiveRetentionDays: number;
  /** Where EventBridge puts events it cannot encrypt or decrypt with the key. */
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
    // With a customer managed key, events the key cannot process go to this queue rather than being dropped
    // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-event-bus-dlq.html).
    this.bus = new EventBus(this, 'Bus', {
      eventBusName: props.busName,
      description: 'fleet-etl domain events (source fleet-etl)',
      kmsKey: props.key,
      deadLetterQueue: props.deadLetterQueue,
    });
    // EventBus.archive() does not pass a key on, so the archive is built directly with one.
    this.archive = new Archive(this, 'Archive', {
      sourceEventBus: this.bus,
      description: `Every event of ${props.busName}, for replays`,
      // Everything this account puts on the bus: the pattern has to name something, and the account is all.
      eventPattern: { account: [Stack.of(this).account] },
      retention: Duration.days(props.archiveRetentionDays),
      kmsKey: props.key,
    });
  }
}
