import { createHash } from 'node:crypto';
import { existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import { loadStackModel, type StackModel } from '../../../twin/template/stack-model.js';
import { discard, synthesize, testConfig } from '../../infra/helpers/synth.js';

export interface TwinStack {
  /** The cloud assembly directory: templates and bundled assets, as `cdk synth` leaves them in cdk.out. */
  assemblyDir: string;
  model: StackModel;
  /** Whether the assembly is the jest run's shared copy, which discardTwinStack leaves to the global teardown. */
  shared: boolean;
}

/**
 * The jest run's folder of shared assemblies, set by tests/setup/shared-assemblies-setup.js. Eighteen test files
 * synthesize one of three variants; bundling the functions costs ~8 s of CPU each time, so each variant is
 * synthesized once per run and its folder read by every file that asks for it. Tests only read an assembly (the
 * twin loads its templates and runs its bundles; a test that needs a changed one edits a copy, editedAssembly).
 */
const SHARED_ASSEMBLIES = 'FLEET_ETL_TEST_ASSEMBLIES';

/**
 * Synthesizes the default stage as `cdk synth` does (cdk.json's settings, cdk-nag on) into a temporary cloud
 * assembly and loads the twin's model from it, the way the twin reads `cdk.out`. `bundle` builds the functions
 * with the local esbuild (needed to run them; ~10 s more). Within a jest run, a variant synthesized by an earlier
 * test file (or another worker) is reused rather than synthesized again.
 */
export function synthesizeTwinStack(options: {
  bundle: boolean;
  /** Deployment settings over cdk.json's (`fleetApi.pageSize`, say). */
  config?: Record<string, unknown>;
}): TwinStack {
  const fresh = () =>
    synthesize(testConfig(options.config), { bundle: options.bundle, cloudFormationValidation: false });
  const sharedRoot = process.env[SHARED_ASSEMBLIES];
  if (sharedRoot === undefined) {
    const { assemblyDir } = fresh();
    return { assemblyDir, model: loadStackModel(assemblyDir), shared: false };
  }
  const variant = createHash('sha256')
    .update(JSON.stringify({ bundle: options.bundle, config: options.config ?? {} }))
    .digest('hex')
    .slice(0, 16);
  const assemblyDir = path.join(sharedRoot, variant);
  if (!existsSync(assemblyDir)) {
    const synthesized = fresh();
    // Renamed into place whole, so that no reader ever sees half an assembly. Two workers may synthesize the same
    // variant at once: the second rename fails on the first one's folder, and the second copy goes.
    try {
      renameSync(synthesized.assemblyDir, assemblyDir);
    } catch (error) {
      discard(synthesized);
      if (!existsSync(assemblyDir)) throw error;
    }
  }
  return { assemblyDir, model: loadStackModel(assemblyDir), shared: true };
}

export function discardTwinStack(stack: TwinStack | undefined): void {
  if (stack !== undefined && !stack.shared) discard({ assemblyDir: stack.assemblyDir });
}
