import { loadStackModel, type StackModel } from '../../../twin/template/stack-model.js';
import { discard, type Synthesized, synthesize, testConfig } from '../../infra/helpers/synth.js';

export interface TwinStack {
  synthesized: Synthesized;
  model: StackModel;
}

/**
 * Synthesizes the default stage as `cdk synth` does (cdk.json's settings, cdk-nag on) into a temporary cloud
 * assembly and loads the twin's model from it, the way the twin reads `cdk.out`. `bundle` builds the functions
 * with the local esbuild (needed to run them; ~10 s more).
 */
export function synthesizeTwinStack(options: {
  bundle: boolean;
  /** Deployment settings over cdk.json's (`fleetApi.pageSize`, say). */
  config?: Record<string, unknown>;
}): TwinStack {
  const synthesized = synthesize(testConfig(options.config), {
    bundle: options.bundle,
    cloudFormationValidation: false,
  });
  return { synthesized, model: loadStackModel(synthesized.assemblyDir) };
}

export function discardTwinStack(stack: TwinStack | undefined): void {
  discard(stack?.synthesized);
}
