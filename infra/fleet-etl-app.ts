import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { TopologyDeclaration } from '../services/topology.js';
import type { DeploymentConfig } from './config.js';
import { FleetEtlStack } from './fleet-etl-stack.js';
import { stageNames } from './naming.js';

/**
 * cdk-nag's AwsSolutions pack over the whole app: a finding that is not acknowledged (with its reason, next to
 * the construct it is about) fails the synth. The acknowledgements are also written into the template's
 * Metadata (`cdk_nag.rules_to_suppress`), so a reviewer reading only the template sees them and their reasons.
 */
export function addAwsSolutionsChecks(app: App): void {
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }),
  );
}

/** Adds one stage to the app, checked by cdk-nag; a test may pass a topology of its own. */
export function addFleetEtl(
  app: App,
  config: DeploymentConfig,
  options: { topology?: TopologyDeclaration } = {},
): FleetEtlStack {
  const stack = new FleetEtlStack(app, stageNames(config.stage).stack, {
    config,
    ...(options.topology === undefined ? {} : { topology: options.topology }),
    ...(config.account === undefined && config.region === undefined
      ? {}
      : {
          env: {
            ...(config.account === undefined ? {} : { account: config.account }),
            ...(config.region === undefined ? {} : { region: config.region }),
          },
        }),
  });
  addAwsSolutionsChecks(app);
  return stack;
}
