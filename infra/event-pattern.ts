import { type CfnRule, type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { EVENT_SOURCE } from '../events/index.js';
import type { EventPattern } from '../services/topology.js';

export interface PatternRuleProps {
  eventBus: IEventBus;
  /** Unset: CloudFormation generates one. */
  ruleName?: string;
  description: string;
  /** In EventBridge's own syntax, as services/topology.ts writes it. */
  pattern: EventPattern;
}

/**
 * A rule whose pattern is written to the template exactly as the topology (or the caller) spells it. CDK's
 * typed EventPattern knows only some envelope fields (no `replay-name`, for one), so the L2 gets a stand-in
 * that satisfies its validation and the CloudFormation property is set to the real pattern.
 */
export function patternRule(scope: Construct, id: string, props: PatternRuleProps): Rule {
  const rule = new Rule(scope, id, {
    eventBus: props.eventBus,
    ...(props.ruleName === undefined ? {} : { ruleName: props.ruleName }),
    description: props.description,
    eventPattern: { source: [EVENT_SOURCE] },
  });
  (rule.node.defaultChild as CfnRule).eventPattern = structuredClone(props.pattern);
  return rule;
}
