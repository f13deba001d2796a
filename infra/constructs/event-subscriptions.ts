import type { Duration } from 'aws-cdk-lib';
import { EventField, type IEventBus, Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Dataset } from '../../events/index.js';
import { type EventPattern, subscriptionRuleName } from '../../services/topology.js';
import { patternRule } from '../event-pattern.js';

/**
 * How long and how often EventBridge keeps trying to hand an event to a target before it goes to the
 * dead-letter queue (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html).
 * These retries cover delivery (throttling, a missing permission), not the function's own errors, which Lambda's
 * asynchronous retries and failure destination handle.
 */
export interface TargetRetry {
  maxEventAge: Duration;
  retryAttempts: number;
}

export interface EventSubscriptionsProps {
  bus: IEventBus;
  /** The bus's name as configured (not a token), to name the rules after it. */
  busName: string;
  /** Events EventBridge could not deliver to a target after the retries. */
  deadLetterQueue: IQueue;
  retry: TargetRetry;
}

/** One rule per subscription of the topology, each target with its dead-letter queue and retry policy. */
export class EventSubscriptions extends Construct {
  readonly rules = new Map<string, Rule>();
  readonly #props: EventSubscriptionsProps;

  constructor(scope: Construct, id: string, props: EventSubscriptionsProps) {
    super(scope, id);
    this.#props = props;
  }

  subscribe(service: string, handler: IFunction, pattern: EventPattern): Rule {
    const rule = patternRule(this, service, {
      eventBus: this.#props.bus,
      // The name the replay tooling derives a consumer's rule from (`etl replay`, FilterArns).
      ruleName: subscriptionRuleName(this.#props.busName, service),
      description: `fleet-etl events for ${service}`,
      pattern,
    });
    rule.addTarget(
      new LambdaFunction(handler, {
        deadLetterQueue: this.#props.deadLetterQueue,
        maxEventAge: this.#props.retry.maxEventAge,
        retryAttempts: this.#props.retry.retryAttempts,
      }),
    );
    this.rules.set(service, rule);
    return rule;
  }
}

export interface NightlyScheduleProps {
  /** EventBridge cron or rate expression, in UTC. */
  expression: string;
  handler: IFunction;
  inputs: readonly { dataset: Dataset }[];
  deadLetterQueue: IQueue;
  retry: TargetRetry;
}

/**
 * The nightly start: one scheduled rule, one target per dataset. Each target's input transformer sends
 * `{"dataset": ..., "time": <the scheduled event's time>}`; both planners receive the same time, so they derive
 * the same window and run id without talking to each other
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html). Schedules live on
 * the default bus, the only one that receives scheduled events.
 */
export class NightlySchedule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: NightlyScheduleProps) {
    super(scope, id);
    this.rule = new Rule(this, 'Rule', {
      description: 'fleet-etl nightly run: one planner invocation per dataset',
      schedule: Schedule.expression(props.expression),
    });
    for (const { dataset } of props.inputs) {
      this.rule.addTarget(
        new LambdaFunction(props.handler, {
          event: RuleTargetInput.fromObject({ dataset, time: EventField.time }),
          deadLetterQueue: props.deadLetterQueue,
          maxEventAge: props.retry.maxEventAge,
          retryAttempts: props.retry.retryAttempts,
        }),
      );
    }
  }
}
