import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type DeploymentConfig, parseDeploymentConfig } from '../../../infra/config.js';
import { addFleetEtl } from '../../../infra/fleet-etl-app.js';
import type { FleetEtlStack } from '../../../infra/fleet-etl-stack.js';
import { REPOSITORY_ROOT } from '../../../infra/repository.js';
import type { TopologyDeclaration } from '../../../services/topology.js';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** cdk.json's context: the feature flags and the `fleet-etl` settings `cdk synth` uses. */
export const cdkJsonContext: Json = (() => {
  const parsed: unknown = JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, 'cdk.json'), 'utf8'));
  if (!isObject(parsed) || !isObject(parsed.context)) throw new Error('cdk.json has no context object');
  return parsed.context;
})();

function merge(base: Json, over: Json): Json {
  const merged: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = merged[key];
    merged[key] = isObject(current) && isObject(value) ? merge(current, value) : value;
  }
  return merged;
}

/** cdk.json's `fleet-etl` settings with test overrides, validated as the app validates them. */
export function testConfig(overrides: Json = {}): DeploymentConfig {
  const base = cdkJsonContext['fleet-etl'];
  return parseDeploymentConfig(merge(isObject(base) ? base : {}, overrides));
}

export interface Synthesized {
  stack: FleetEtlStack;
  template: Template;
  /** The cloud assembly directory: templates, bundled assets, the validation report. */
  assemblyDir: string;
}

export interface SynthesizeOptions {
  /** Bundle the functions with the local esbuild (tests/infra/bundles.test.ts); otherwise bundling is skipped. */
  bundle?: boolean;
  /**
   * CDK's built-in CloudFormation validation (on in `cdk synth`) costs ~10 s of CPU on a cold synth. The default
   * stage keeps it (it caught a real dependency cycle); files that synthesize variants may leave it out.
   */
  cloudFormationValidation?: boolean;
  /** Another topology than services/topology.ts: a consumer declared by a test, say. */
  topology?: TopologyDeclaration;
}

/**
 * Synthesizes the app as `cdk synth` does (cdk.json's feature flags, cdk-nag on), in memory. Unless `bundle`,
 * asset bundling is skipped through CDK's own switch (`aws:cdk:bundling-stacks`), which keeps each synth to a
 * few seconds.
 */
export function synthesize(config: DeploymentConfig, options: SynthesizeOptions = {}): Synthesized {
  const app = new App({
    builtinCloudFormationValidation: options.cloudFormationValidation ?? true,
    outdir: mkdtempSync(path.join(tmpdir(), 'fleet-etl-cdk-')),
    context: { ...cdkJsonContext, ...(options.bundle === true ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const stack = addFleetEtl(
    app,
    config,
    options.topology === undefined ? {} : { topology: options.topology },
  );
  // Synthesis runs the cdk-nag plugin; an unacknowledged error makes it throw with the report.
  const assembly = app.synth();
  const artifact = assembly.getStackArtifact(stack.artifactId);
  return { stack, template: Template.fromJSON(artifact.template), assemblyDir: assembly.directory };
}

/** Removes a synthesized assembly (bundles included) from the temporary directory. */
export function discard(synthesized: Pick<Synthesized, 'assemblyDir'> | undefined): void {
  if (synthesized !== undefined) rmSync(synthesized.assemblyDir, { recursive: true, force: true });
}
