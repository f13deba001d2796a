import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { DeploymentConfig } from './config.js';
import { FleetEtlStack } from './fleet-etl-stack.js';
import { stageNames } from './naming.js';

/**
 * Adds one stage to the app and the cdk-nag AwsSolutions pack to everything: a finding that is not acknowledged
 * (with its reason, next to the construct it is about) fails the synth.
 */
export function addFleetEtl(app: App, config: DeploymentConfig): FleetEtlStack {
  const stack = new FleetEtlStack(app, stageNames(config.stage).stack, {
    config,
    ...(config.account === undefined && config.region === undefined
      ? {}
      : {
          env: {
            ...(config.account === undefined ? {} : { account: config.account }),
            ...(config.region === undefined ? {} : { region: config.region }),
          },
        }),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
}
