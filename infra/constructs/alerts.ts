import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import {
  EventField,
  type IEventBus,
  type IRule,
  type IRuleTarget,
  type Rule,
  type RuleTargetConfig,
  RuleTargetInput,
} from 'aws-cdk-lib/aws-events';
import { addToDeadLetterQueueResourcePolicy, bindBaseTargetConfig } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DetailType, EVENT_SOURCE } from '../../events/index.js';
import { LIVE_ONLY } from '../../services/topology.js';
import { patternRule } from '../event-pattern.js';
import type { EncryptionKey } from './encryption-key.js';
import type { TargetRetry } from './event-subscriptions.js';

export interface AlertsProps {
  stage: string;
  key: EncryptionKey;
  /** Unset: the topic is created without a subscriber (subscribe later, e.g. a chat integration). */
  email?: string;
}

/**
 * Where people hear about trouble: one encrypted, TLS-only SNS topic with an email subscription; alarms on the
 * dead-letter queues and on a night without a finished run; and every EtlFailed event, with its reason.
 */
export class Alerts extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly #stage: string;

  constructor(scope: Construct, id: string, props: AlertsProps) {
    super(scope, id);
    this.#stage = props.stage;
    this.topic = new Topic(this, 'Topic', {
      displayName: `fleet-etl ${props.stage} alerts`,
      masterKey: props.key.key,
      enforceSSL: true,
    });
    // Alarms and EventBridge publish to an encrypted topic only if the key lets them
    // (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
    props.key.allowServiceToEncrypt('cloudwatch.amazonaws.com', 'AllowCloudWatchAlarmsToNotify');
    if (props.email !== undefined) this.topic.addSubscription(new EmailSubscription(props.email));
  }

  /** Alarms as soon as one message sits in the queue: every message there is a task or event given up on. */
  whenNotEmpty(id: string, queue: IQueue, what: string): Alarm {
    return this.#alarm(id, {
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      description: `fleet-etl ${this.#stage}: ${what} (redrive after fixing the cause; docs/deploy.md)`,
    });
  }

  /** A night with no finished run is a failure even when nothing failed loudly (the schedule did not fire...). */
  whenNoRunSucceeded(id: string, runsSucceeded: IMetric): Alarm {
    return this.#alarm(id, {
      metric: runsSucceeded,
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      // No datapoint in a day means no EtlDone: that is the case to catch.
      treatMissingData: TreatMissingData.BREACHING,
      description: `fleet-etl ${this.#stage}: no run finished (EtlDone) in the last 24 hours`,
    });
  }

  /** Every EtlFailed event reaches the topic as one readable line with the run, the stage and the reason. */
  notifyOnFailedRuns(bus: IEventBus, deadLetterQueue: IQueue, retry: TargetRetry): Rule {
    // A replayed failure is old news: only live ones are sent.
    const rule = patternRule(this, 'FailedRuns', {
      eventBus: bus,
      description: 'fleet-etl EtlFailed events to the alert topic',
      pattern: { source: [EVENT_SOURCE], 'detail-type': [DetailType.EtlFailed], ...LIVE_ONLY },
    });
    const field = (name: string) => EventField.fromPath(`$.detail.${name}`);
    const message = RuleTargetInput.fromText(
      `fleet-etl ${this.#stage}: run ${field('runId')} failed in ${field('stage')}: ${field('reason')}`,
    );
    rule.addTarget(new TopicTarget(this.topic, message, deadLetterQueue, retry));
    return rule;
  }

  #alarm(
    id: string,
    props: {
      metric: IMetric;
      threshold: number;
      comparisonOperator: ComparisonOperator;
      treatMissingData: TreatMissingData;
      description: string;
    },
  ): Alarm {
    const { description, ...alarmProps } = props;
    const alarm = new Alarm(this, id, { ...alarmProps, evaluationPeriods: 1, alarmDescription: description });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}

/**
 * An SNS target whose grants name the rule. CDK's SnsTopic target calls topic.grantPublish(events), which also
 * lets EventBridge use the topic's key without any condition; here the topic policy is limited to this rule,
 * and the key already trusts EventBridge for this account only (EncryptionKey.allowServiceToEncrypt).
 */
class TopicTarget implements IRuleTarget {
  constructor(
    private readonly topic: Topic,
    private readonly message: RuleTargetInput,
    private readonly deadLetterQueue: IQueue,
    private readonly retry: TargetRetry,
  ) {}

  bind(rule: IRule): RuleTargetConfig {
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
      }),
    );
    addToDeadLetterQueueResourcePolicy(rule, this.deadLetterQueue);
    return {
      ...bindBaseTargetConfig({ deadLetterQueue: this.deadLetterQueue, ...this.retry }),
      arn: this.topic.topicArn,
      input: this.message,
      targetResource: this.topic,
    };
  }
}
